"""Insight: what the pages show, computed without Streamlit: analytics over the store (``analysis``),
plotly figures (``charts``), the budget planner (``planner``), code snippets (``codegen``), the grid's
layout and composite image (``gridlayout``, ``gridimage``) and the Catalog page's tables (``catalog_tables``). Imports the core (never the execution layer)."""
