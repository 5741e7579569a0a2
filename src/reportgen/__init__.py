"""reportgen: a 党组织书记抓基层党建工作述职报告 first draft from a YAML profile and a template pack."""

__version__ = "0.3.0"

__all__ = ["__version__"]
