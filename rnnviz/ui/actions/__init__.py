"""The window's menu actions: file, export, presentation mode, help (installed by rnnviz.ui.app)."""
