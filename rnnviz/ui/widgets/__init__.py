"""Small widgets and pyqtgraph helpers the views and the window share: time bar, status bar, axes."""
