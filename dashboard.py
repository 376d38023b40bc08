"""Home: what the app does, which provider is active, catalog freshness, model lifecycle, links to pages.

Run with ``streamlit run dashboard.py``; the pages are in ``pages/`` (Streamlit's pages folder).
"""

import ui
from ui import home

ctx = ui.page_setup("Home", icon=":material/home:")
home.render(ctx)
