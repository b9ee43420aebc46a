"""gridkit: check, measure and score community-grid service management (网格化服务管理)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
