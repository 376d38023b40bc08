"""The grid view: a run's images side by side, labelled by its axes, with each cell's figures.

Used on Generate (while a run fills in and after it) and on Results (any past run). X values are
columns, Y values rows, Z (and a prompt axis) separate sub-grids. Thumbnails come from
``store.thumbnail`` (cached on disk and here), so a rerun never decodes a full image; full images
are read only for "Enlarge", "Compare" and a download click. Where each row goes is
``imagegen.insight.gridlayout`` (shared with "Grid as PNG", composed by ``imagegen.insight.gridimage`` on click).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import date

import pandas as pd
import streamlit as st

from imagegen.facade import (
    Catalog,
    EditRun,
    Layout,
    as_decimal,
    as_float,
    cell_key,
    compose_grid,
    coords_of,
    file_format,
    format_value,
    human_bytes,
    layout_for,
    load_edit_run,
    request_of,
    rows_by_cell,
    snippets,
)
from ui import flow_row, store_for
from ui.i18n import N_, _, label
from ui.plain import md_escape
from ui.state import bump_store_version, set_widget_value, widget_value

THUMB_PX = 384
GRID_PNG_CELL_PX = 256
MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
        "svg": "image/svg+xml"}
#: Material icons (bundled with Streamlit; emoji fonts are often missing on servers and in CI browsers).
ICON = {"latency": ":material/timer:", "tokens": ":material/token:", "cost": ":material/payments:",
        "file": ":material/image:", "input": ":material/input:"}
STATUS_TEXT = {"cancelled": N_("Cancelled before it was sent"), "skipped": N_("Skipped (budget or earlier stop)")}


def token_caption(row: dict, billed: str) -> str:
    """Image output tokens billed next to the catalog figure with its real status (and text output apart).

    The status is the cell's ``token_status``: documented, measured (by whom, when), derived or
    assumed; older rows without one say "catalog".
    """
    tokens = as_float(row.get("output_tokens")) or 0.0
    text = as_float(row.get("output_text_tokens")) or 0.0
    documented = as_float(row.get("documented_output_tokens"))
    status = row.get("token_status") if isinstance(row.get("token_status"), str) and row.get("token_status") \
        else "catalog"
    doc = f" · {documented:,.0f} {label(status)}" if documented is not None else " · " + _("no catalog figure")
    extra = " · " + _("{n} text output tokens").format(n=f"{text:,.0f}") if text else ""
    return _("{n} image output tokens {billed}").format(n=f"{tokens - text:,.0f}", billed=billed) + doc + extra


def cell_figures(row: dict) -> list[str]:
    """The labelled figures shown under a cell's image (latency, tokens, cost, file)."""
    # Rows stored before cancelled/skipped cells carried the flag have simulated = 0: the provider tells.
    simulated = bool(as_float(row.get("simulated"))) or row.get("provider") == "simulator"
    replayed = row.get("replayed_from") if isinstance(row.get("replayed_from"), str) else None
    # A replayed answer is a copy of a recorded one: say where from, never "measured".
    measured = replayed or label("simulated" if simulated else "measured")
    billed = _("billed ({label})").format(label=replayed) if replayed else \
        _("billed ({label})").format(label=label("simulated")) if simulated else _("billed")
    out = []
    latency = as_float(row.get("latency_s"))
    if latency is not None:
        text = f"{ICON['latency']} " + _("{s} s latency ({label})").format(s=f"{latency:.2f}", label=measured)
        first = as_float(row.get("first_partial_s"))
        if first is not None:
            text += " · " + _("first partial {s} s").format(s=f"{first:.2f}")
        out.append(text)
    if as_float(row.get("output_tokens")) is not None:
        out.append(f"{ICON['tokens']} " + token_caption(row, billed))
    cost, estimated = as_decimal(row.get("cost_usd")), as_decimal(row.get("estimated_cost_usd"))
    if cost is not None or estimated is not None:
        parts = []
        if cost is not None:
            parts.append(f"${cost:.4f} {billed}")
        if estimated is not None:
            parts.append(f"${estimated:.4f} " + _("estimated (max)"))
        if as_float(row.get("reused")):
            parts.append(_("reused from history"))
        out.append(f"{ICON['cost']} " + " · ".join(parts))
    out += edit_figures(row, billed)
    size = as_float(row.get("image_bytes"))
    if size is not None:
        fmt = file_format(row)  # the stored file's real type
        dims = ""
        if as_float(row.get("image_width")) and as_float(row.get("image_height")):
            dims = f" · {int(row['image_width'])}×{int(row['image_height'])}"
        out.append(f"{ICON['file']} {human_bytes(size)} {fmt}{dims}")
    return out


def edit_figures(row: dict, billed: str) -> list[str]:
    """An edit cell's input image tokens, billed next to the estimate (labelled), and its cost split."""
    if row.get("operation") != "edit":
        return []
    out = []
    tokens, est = as_float(row.get("input_image_tokens")), as_float(row.get("input_image_tokens_estimated"))
    parts = []
    if tokens is not None:
        parts.append(_("{tokens} input image tokens {billed}").format(tokens=f"{tokens:,.0f}", billed=billed))
    if est is not None:
        parts.append(_("{tokens} estimated ({label})").format(tokens=f"{est:,.0f}",
                                                             label=row.get("input_image_label") or "catalog"))
    if parts:
        fid = row.get("input_fidelity") if isinstance(row.get("input_fidelity"), str) else _("omitted")
        out.append(f"{ICON['input']} " + " · ".join(parts) + f" · input_fidelity {fid}")
    split = [as_decimal(row.get(k)) for k in ("cost_text_input_usd", "cost_image_input_usd",
                                              "cost_image_output_usd", "cost_text_output_usd")]
    if any(v is not None for v in split):
        text_in, image_in, image_out, text_out = (v or 0 for v in split)
        out.append(f"{ICON['cost']} " + _("text in {text_in} · image in {image_in} · image out {image_out} ({billed})")
                   .format(text_in=f"${text_in:.4f}", image_in=f"${image_in:.4f}",
                           image_out=f"${image_out + text_out:.4f}", billed=billed))
    return out


def cell_label(row: dict) -> str:
    """Short label of a cell for pickers: its coordinates and repeat."""
    coords = coords_of(row)
    text = ", ".join(f"{k}={_short(format_value(k, v))}" for k, v in coords.items()) or _("single cell")
    if int(row.get("repeat") or 0):
        text += " " + _("(repeat {n})").format(n=int(row["repeat"]) + 1)
    return text


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def download_name(row: dict) -> tuple[str, str]:
    """(file name, mime) for a cell's original image: the stored file's real extension."""
    path = str(row.get("image_path") or "")
    ext = path.rsplit(".", 1)[-1].lower() if "." in path else str(row.get("output_format") or "png")
    name = f"{row.get('run_id')}-cell{int(row.get('cell_id') or 0)}-r{int(row.get('repeat') or 0) + 1}.{ext}"
    return name, MIME.get(ext, "application/octet-stream")


# -- rendering -----------------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=1024)  # ~10-30 KB each
def _thumb(home: str, sha256: str, px: int) -> bytes:
    return store_for(home).thumbnail(sha256, px)


def image_problem(path) -> str | None:
    """Why the image file at ``path`` cannot be shown (missing, unreadable, too large), or None.

    The pixel limit is checked from the header, before the decode that proves the file whole."""
    from PIL import Image

    from imagegen.facade import MAX_IMAGE_PIXELS

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_IMAGE_PIXELS:  # from the header: a bomb is never decoded
                    return f"the image is {w}x{h}, above the {MAX_IMAGE_PIXELS:,}-pixel limit"
                im.load()  # st.image decodes it next: a truncated file must fail here, not there
    except FileNotFoundError:
        return "the image file is missing from the store"
    except Exception as exc:  # any reason at all: a placeholder, never a crashed page
        return f"the image file cannot be read ({type(exc).__name__})"
    return None


def placeholder(reason: str) -> None:
    """What a page draws instead of an image it cannot show: the reason, as plain text."""
    st.warning(_("Image unavailable: {reason}").format(reason=md_escape(reason)), icon=":material/broken_image:")


def show_image(store, rel_path: str) -> None:
    """A stored image at full size, or a placeholder saying why it cannot be shown."""
    try:
        path = store.image_path(str(rel_path))
    except Exception as exc:
        placeholder(str(exc))
        return
    problem = image_problem(path)
    if problem:
        placeholder(problem)
    else:
        st.image(str(path), width="stretch")


def _original_bytes(store, rel_path: str):
    """A deferred reader for ``st.download_button``: the file is read only when clicked."""
    return lambda: store.image_path(rel_path).read_bytes()


def _rate(store, result_id: int, widget_key: str, current: int | None) -> None:
    """Store the stars picked. Clicking the picked star again unselects it in the widget; that is not taken
    as "delete my rating" (a misclick would lose it silently): the widget goes back to the stored stars, and
    only the explicit "Clear rating" button removes them."""
    value = widget_value(widget_key)
    if value is None:
        if current:
            set_widget_value(widget_key, int(current) - 1)
        return
    store.rate(int(result_id), int(value) + 1)
    bump_store_version()


def _clear_rating(store, result_id: int, widget_key: str) -> None:
    store.rate(int(result_id), None)
    set_widget_value(widget_key, None)
    bump_store_version()


@st.dialog(_("Full image"), width="large")
def _enlarge(store, row: dict) -> None:
    st.markdown(f"**{md_escape(cell_label(row))}**")
    images = store.images(int(row["result_id"]))
    for rel in images["path"].tolist() or [row.get("image_path")]:
        show_image(store, rel)
    for line in cell_figures(row):
        st.caption(line)


@st.dialog(_("View code"), width="large")
def _code(row: dict, settings_info: dict | None, catalog: Catalog, today: date) -> None:
    st.caption(_("The same request with the official openai SDK or curl. Keys and endpoints come from environment "
               "variables; nothing secret is shown."))
    edit = row.get("operation") == "edit"
    if edit:
        st.caption(_("An edit: save the run's input images (and mask) under these names next to the script "
                     "(download them from the inputs above the grid)."))
    items = snippets(request_of(row), settings_info, catalog=catalog, today=today,
                     inputs=tuple(row.get("input_names") or ()) if edit else (),
                     mask=row.get("mask_name") if edit else None)
    tabs = st.tabs([s.label for s in items])
    for tab, snippet in zip(tabs, items):
        with tab:
            if snippet.warning:
                st.warning(snippet.warning, icon=":material/block:")
            st.code(snippet.code, language=snippet.language)


def _cell(store, row: dict, key: str, settings_info: dict | None, live: bool, catalog: Catalog, today: date) -> None:
    status = row.get("status")
    rid = int(row["result_id"])
    if status == "ok" and row.get("image_sha256"):
        try:
            thumb = _thumb(str(store.home), str(row["image_sha256"]), THUMB_PX)
        except Exception as exc:  # missing, damaged, too large: the reason instead of a crashed page
            placeholder(str(exc))
        else:
            st.image(thumb, width="stretch")
        n = int(as_float(row.get("n")) or 1)
        if n > 1:
            st.caption(_("first of {n} images (all in Enlarge)").format(n=n))
    elif status == "error":
        st.error(f"**{md_escape(row.get('error_kind') or 'error')}**: {md_escape(row.get('error_message') or 'no message')}")
    else:
        st.info(_(STATUS_TEXT[str(status)]) if str(status) in STATUS_TEXT else str(status))
    for line in cell_figures(row):
        st.caption(line)
    if live:
        return
    if status == "ok":
        current = as_float(row.get("rating"))
        stars = int(current) if current else None
        r1, r2 = st.columns([1, 1], vertical_alignment="center")
        with r1:
            st.feedback("stars", key=f"{key}_rate_{rid}", default=stars - 1 if stars else None,
                        on_change=_rate, args=(store, rid, f"{key}_rate_{rid}", stars))
        if stars:
            r2.button(_("Clear rating"), key=f"{key}_unrate_{rid}", type="tertiary", icon=":material/close:",
                      on_click=_clear_rating, args=(store, rid, f"{key}_rate_{rid}"),
                      help=_("Remove the {stars}-star rating of this cell").format(stars=stars))
    c1, c2, c3 = flow_row(3, gap="small")  # wraps in a narrow cell instead of cutting "Enlarge"
    if status == "ok" and row.get("image_path"):
        if c1.button(_("Enlarge"), key=f"{key}_big_{rid}", help=_("Show the full image")):
            _enlarge(store, row)
        name, mime = download_name(row)
        c2.download_button(name.rsplit(".", 1)[-1].upper(), data=_original_bytes(store, str(row["image_path"])),
                           file_name=name, mime=mime, key=f"{key}_dl_{rid}", on_click="ignore",
                           icon=":material/download:",
                           help=_("The original bytes as received ({name})").format(name=name))
    if c3.button(_("Code"), key=f"{key}_code_{rid}", help=_("View the equivalent Python and curl request")):
        _code(row, settings_info, catalog, today)


#: A cell not recorded yet. A Material icon, not the ⏳ emoji: emoji fonts are often missing (a box).
PENDING = N_(":material/hourglass_empty: waiting…")


def _pending(text: str = PENDING) -> None:
    st.caption(_(text))


def _grid_png(store, rows: pd.DataFrame, layout: Layout, title: str):
    """A deferred composer for ``st.download_button``: the PNG is drawn only when clicked."""
    def compose() -> bytes:
        # the view's own axis roles and value order (spec order, and cells still expected)
        return compose_grid(rows, lambda sha: store.thumbnail(sha, THUMB_PX), x=layout.x[0] if layout.x else None,
                            y=layout.y[0] if layout.y else None, z=[name for name, _values in layout.z],
                            axes=layout.axes, cell_px=GRID_PNG_CELL_PX, title=title)

    return compose


def _grid_png_button(store, rows: pd.DataFrame, layout: Layout, key: str) -> None:
    first = rows.iloc[0]
    run_id = str(first.get("run_id") or "run")
    name = first.get("run_name")
    title = f"{name} · {run_id}" if isinstance(name, str) and name else run_id
    st.download_button(_("Grid as PNG"), data=_grid_png(store, rows, layout, title), file_name=f"{run_id}-grid.png",
                        mime="image/png", key=f"{key}_grid_png", on_click="ignore", icon=":material/grid_on:",
                        help=_("The whole grid as one labelled picture (X/Y/Z plot), each cell's figures under "
                             "its image; simulated figures say so"))


def render_grid(store, rows: pd.DataFrame, *, key: str, axes: dict[str, Sequence] | None = None,
                expected: Sequence[dict] = (), settings_info: dict | None = None, live: bool = False,
                catalog: Catalog, today: date) -> None:
    """Draw the grid of ``rows`` (``result_rows`` of one run).

    ``axes`` gives the spec's axis order; ``expected`` lists every cell's coordinates so cells not
    finished yet show as waiting. ``live`` (a run in progress) leaves out the per-cell controls.
    """
    layout = layout_for(rows, axes, expected)
    records = rows.to_dict("records")
    edit = load_edit_run(store, str(rows["run_id"].iloc[0]), catalog) if not rows.empty and store is not None \
        else None
    if edit is not None:
        render_inputs(store, edit, key)
        records = [with_edit(r, edit) for r in records]
    by_cell = rows_by_cell(records, layout)
    if not live and not rows.empty:
        _grid_png_button(store, rows, layout, key)
    xs, ys = layout.xs, layout.ys
    for zv in layout.sub_grids():
        if zv:
            st.subheader(" · ".join(f"{md_escape(n)} = {md_escape(_short(format_value(n, v), 80))}" for n, v in zv))
        widths = [0.6] + [1] * len(xs) if layout.y else [1] * len(xs)
        if layout.x:
            head = st.columns(widths)
            if layout.y:
                head[0].markdown(f"**{md_escape(layout.y[0])} ↓ · {md_escape(layout.x[0])} →**")
            for col, xv in zip(head[1:] if layout.y else head, xs):
                col.markdown(f"**{md_escape(layout.x[0])} = {md_escape(_short(format_value(layout.x[0], xv)))}**")
        for yv in ys:
            cols = st.columns(widths)
            if layout.y:
                cols[0].markdown(f"**{md_escape(layout.y[0])} = {md_escape(_short(format_value(layout.y[0], yv), 60))}**")
            for col, xv in zip(cols[1:] if layout.y else cols, xs):
                with col:
                    cell_rows = by_cell.get(cell_key(layout.coords(zv, xv, yv), layout.names), [])
                    if not cell_rows:
                        _pending()
                    for r in cell_rows:
                        if len(cell_rows) > 1:
                            st.caption(_("repeat {value}").format(value=int(r.get('repeat') or 0) + 1))
                        _cell(store, r, key, settings_info, live, catalog, today)


def with_edit(row: dict, edit: EditRun) -> dict:
    """A result row with its edit details: operation, input_fidelity, estimated input tokens, input names."""
    cid = int(row.get("cell_id") or 0)
    images = edit.images
    mask = edit.mask
    return {**row, "operation": "edit", "input_fidelity": edit.fidelity.get(cid),
            "input_image_tokens_estimated": edit.estimated.get(cid),
            "input_image_label": edit.labels.get(str(row.get("model"))), "input_sizes": edit.sizes,
            "input_names": [str(i.get("source") or f"input-{n + 1}.png") for n, i in enumerate(images)],
            "mask_name": (str(mask.get("source") or "mask.png") if mask else None)}


def _input_bytes(store, sha256: str):
    return lambda: store.input_file(sha256)


def render_inputs(store, edit: EditRun, key: str) -> None:
    """The edit run's input images and mask, shown with the grid (each with a download of its bytes)."""
    items = [*edit.images, *([edit.mask] if edit.mask else [])]
    st.markdown(_("**Inputs of this edit** (every cell edits these; the mask applies to the first image)"))
    cols = st.columns(min(max(len(items), 1), 6))
    for i, item in enumerate(items[:12]):
        with cols[i % len(cols)]:
            role = "mask" if item.get("role") == "mask" else f"image {i + 1}"
            try:
                st.image(store.input_file(str(item["sha256"])), width=160)
            except Exception as exc:  # a removed file: say so, never crash the grid
                placeholder(str(exc))
                continue
            st.caption(md_escape(f"{role} · {item.get('source')} · {item.get('width')}×{item.get('height')} · "
                                 f"{str(item.get('sha256'))[:10]}"))
            name = str(item.get("source") or role).rsplit("/", 1)[-1]
            st.download_button(_("Download"), data=_input_bytes(store, str(item["sha256"])), file_name=name,
                               mime=MIME.get(str(item.get("format") or "png"), "image/png"),
                               key=f"{key}_input_{i}", on_click="ignore",
                               icon=":material/download:")


def render_compare(store, rows: pd.DataFrame, *, key: str) -> None:
    """Pick two cells and see them at full size, side by side, with their figures."""
    ok = [r for r in rows.to_dict("records") if r.get("status") == "ok" and r.get("image_path")]
    if len(ok) < 2:
        return
    labels = {int(r["result_id"]): cell_label(r) for r in ok}
    picked = st.multiselect(_("Compare two cells at full size"), options=list(labels), format_func=labels.get,
                            max_selections=2, select_all=False, key=f"{key}_compare",  # two, never "all"
                            placeholder=_("Pick two cells to compare"))
    if len(picked) == 2:
        by_id = {int(r["result_id"]): r for r in ok}
        cols = st.columns(2)
        for col, rid in zip(cols, picked):
            row = by_id[rid]
            with col:
                st.markdown(f"**{md_escape(labels[rid])}**")
                show_image(store, str(row["image_path"]))
                for line in cell_figures(row):
                    st.caption(line)
