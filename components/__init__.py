"""The labelling config engine: Label Studio's XML dialect, one unit per tag.

Pure: no database and no web framework, so the server, the worker and the tests share it.
    config = parse_config(xml)              # or ConfigInvalid with every error (line, tag, attribute)
    config.data_keys()                      # task-data keys the config reads
    config.render(task_data, results)       # the annotation form, showing an annotation/prediction/draft
    config.collect(task_data, form)         # submitted form -> Label Studio result items
    config.check_results(results, data)     # (errors, warnings) for results from outside
"""

from __future__ import annotations

from components.base import Problem
from components.config import LabelConfig, parse_config
from components.errors import ConfigError, ConfigInvalid
from components.registry import REGISTRY, UNSUPPORTED
from components.xml import parse_xml

__all__ = ["REGISTRY", "UNSUPPORTED", "ConfigError", "ConfigInvalid", "LabelConfig", "Problem", "parse_config",
           "parse_xml"]
