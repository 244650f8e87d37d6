"""The labelling workspace: the queue that hands out tasks, drafts, submit and skip."""
