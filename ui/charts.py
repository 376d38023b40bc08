"""Place a plotly chart with its data as a CSV download (and the PNG hint) on a page."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from imagegen.facade import image_config
from ui import flow_row
from ui.i18n import N_, _

PNG_HINT = N_("PNG: the camera icon in the chart's toolbar (top right, on hover) downloads the chart.")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM so spreadsheet apps read Japanese text correctly)."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def show_chart(fig: go.Figure, data: pd.DataFrame, key: str, *, caption: str | None = None) -> None:
    """``st.plotly_chart`` with a PNG file name for the modebar, then a CSV download of ``data``."""
    st.plotly_chart(fig, key=f"chart_{key}", config=image_config(key))
    left, right = flow_row(2, gap="small")  # the button keeps its label at 800 px
    left.download_button(_("Data as CSV"), csv_bytes(data), file_name=f"{key}.csv", mime="text/csv",
                         key=f"csv_{key}", icon=":material/download:")
    right.caption(caption or _(PNG_HINT))
