"""Insight: what the pages show, computed without Streamlit: analytics over the store (``analysis``),
plotly figures (``charts``), the budget planner (``planner``), code snippets (``codegen``), and the grid's
layout and composite image (``gridlayout``, ``gridimage``). Imports the core (never the execution layer)."""
