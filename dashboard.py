"""Home: what the app does, which provider is active, catalog freshness, links to the pages."""

import ui

ctx = ui.page_setup("Home")
ui.home.render(ctx)
