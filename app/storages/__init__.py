"""Cloud storages: Label Studio's import (source) and export (target) storages of a project."""
