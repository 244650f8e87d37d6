"""The built-in model served as a label_studio_ml backend (`labelwell model serve`): its routes."""
