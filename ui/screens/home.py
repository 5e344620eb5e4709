"""Home (big tiles), the services of a category, a service's detail and guide, printing a blank form."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QWidget

from kiosk.content import CATEGORIES, Text
from ui.icons import CATEGORY_ICONS
from ui.screens.base import Screen
from ui.widgets import BigButton, Label, Pager


def guide_paragraphs(guide: Any, lang: str) -> list[tuple[str, str]]:
    """(role, text) per guide block: headings as titles, list items with their bullet or number."""
    out = []
    for b in guide.blocks(lang):
        if b.kind == "heading":
            out.append(("title", b.text))
        elif b.kind == "bullet":
            out.append(("body", f"• {b.text}"))
        elif b.kind == "numbered":
            out.append(("body", f"{b.level}. {b.text}"))
        else:
            out.append(("body", b.text))
    return out


class TileGrid(Pager):
    """Big vertical icon+word tiles, `columns` to a row, a page of rows at a time (big page buttons,
    never a scroll bar); rebuilt when content or language changes.

    A tile never grows past MAX_TILE_DP (one service is a tile, not a wall) and a short row is
    centred with its tiles as wide as a full row's."""

    MAX_TILE_DP = (1000, 480)  # width, height (x elder scale)

    def __init__(self, app: Any, columns: int) -> None:
        super().__init__(spacing=app.theme.dp(24), expand=True)
        self.app = app
        self.columns = columns
        self.max_height = 0

    def paginate(self) -> None:
        # a row grows into spare height up to the cap, but is never held below what its words need
        for row in self.rows:
            row.setMaximumHeight(max(self.max_height, row.heightForWidth(self.width())))
        super().paginate()

    def set_tiles(self, tiles: list[tuple[str, str, str, Any]]) -> list[BigButton]:
        """tiles: (object name, icon, words, on_click)."""
        theme = self.app.theme
        max_w, self.max_height = (theme.dp(v * theme.scale) for v in self.MAX_TILE_DP)
        buttons, rows = [], []
        for start in range(0, len(tiles), self.columns):
            chunk = tiles[start:start + self.columns]
            row = QWidget()
            lay = QHBoxLayout(row)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(self.body.spacing())
            side = self.columns - len(chunk)  # half a tile's width of room each side, per missing tile
            lay.addStretch(side)
            for name, icon, words, on_click in chunk:
                b = BigButton(icon, words, vertical=True, icon_dp=110)
                b.setObjectName(name)
                b.setMaximumWidth(max_w)
                b.clicked.connect(on_click)
                lay.addWidget(b, 2)
                buttons.append(b)
            lay.addStretch(side)
            rows.append(row)
        self.retranslate(self.app.session.lang)
        self.set_rows(rows, self.app.restyle)
        return buttons


class HomeScreen(Screen):
    name = "home"
    prompt_id = "home"

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.tiles = TileGrid(app, 4)
        self.root.addWidget(self.tiles, 1)
        app.content.changed.connect(self.retranslate)

    def retranslate(self) -> None:
        super().retranslate()
        tiles = []
        for cat in self.app.content.categories():
            words = CATEGORIES.get(cat, Text(cat, cat, cat)).get(self.lang)
            tiles.append((f"tile_{cat}", CATEGORY_ICONS.get(cat, "document"), words,
                          lambda _=False, c=cat: self.app.go("services", category=c)))
        tiles.append(("tile_lookup", "search", self.tr("progress_lookup"), lambda: self.app.start_lookup()))
        if self.app.content.forms():
            tiles.append(("tile_print_form", "printer", self.tr("print_form"), lambda: self.app.go("print_form")))
        self.tiles.set_tiles(tiles)
        if not self.app.content.loaded:
            self.banner.show_message("warn", self.tr("edge_unavailable"))
        elif self.app.degraded_words():
            self.banner.show_message("warn", self.app.degraded_words())
        else:
            self.banner.hide()


class ServiceListScreen(Screen):
    name = "services"
    prompt_id = "choose_service"

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.category: str | None = None
        self.tiles = TileGrid(app, 2)
        self.root.addWidget(self.tiles, 1)

    def enter(self, category: str | None = None, **kwargs: Any) -> None:
        self.category = category
        super().enter(**kwargs)

    def retranslate(self) -> None:
        super().retranslate()
        services = self.app.content.services(self.category)
        icon = CATEGORY_ICONS.get(self.category or "", "document")
        self.tiles.set_tiles([
            (f"service_{s.id}", icon, s.title.get(self.lang),
             lambda _=False, sid=s.id: self.app.go("detail", service_id=sid)) for s in services])
        if not services:
            self.banner.show_message("warn", self.tr("no_services"))


class PrintingScreen(Screen):
    """A screen that prints on the A4 printer: one job at a time, its outcome on the banner if the resident
    is still on this screen when it ends."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self._printing = False
        app.bridge.printed.connect(self._printed)
        app.bridge.print_failed.connect(self._print_failed)

    def start_print(self, title: str, paras: list[str], prompt_id: str | None = None) -> None:
        """Print unless a job of this screen is still running; `prompt_id` is spoken as it starts."""
        if self._printing:
            return
        self.app.session.touch()
        self._printing = True
        self.banner.show_message("ok", self.tr("printing"))
        if prompt_id:
            self.app.speaker.prompt(prompt_id, self.lang)
        self.app.print_document(title, paras, self.lang)

    def _printed(self, job_id: str) -> None:
        if self._printing and self.isVisible():
            self._printing = False
            self.banner.show_message("ok", self.tr("printed"))

    def _print_failed(self, code: str, status: Any) -> None:
        if self._printing and self.isVisible():
            self._printing = False
            self.banner.show_message("error", f"{status.message(self.lang)} {self.tr('need_help_counter')}")


class ServiceDetailScreen(PrintingScreen):
    """Read, hear and print a service's guide, then start it: works with the WAN down (edge content)."""

    name = "detail"
    prompt_id = "guide_reading"

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.service: Any = None
        self.body = Pager(spacing=app.theme.dp(12))  # a long guide is read a page at a time
        self.root.addWidget(self.body, 1)
        row = QHBoxLayout()
        self.start_btn = BigButton("next", "", kind="primary")
        self.start_btn.setObjectName("start")
        self.start_btn.clicked.connect(self._start)
        self.hear_btn = BigButton("speaker", "")
        self.hear_btn.setObjectName("hear_guide")
        self.hear_btn.clicked.connect(self._hear)
        self.print_btn = BigButton("printer", "")
        self.print_btn.setObjectName("print_guide")
        self.print_btn.clicked.connect(self._print)
        for b in (self.hear_btn, self.print_btn, self.start_btn):
            row.addWidget(b)
        self.root.addLayout(row)
        self.bind(self.start_btn, "start")
        self.bind(self.hear_btn, "hear_guide")
        self.bind(self.print_btn, "print_guide")

    def enter(self, service_id: str | None = None, **kwargs: Any) -> None:
        if service_id:
            self.service = self.app.content.service(service_id)
        super().enter(**kwargs)

    def _guide(self) -> Any:
        return self.app.content.guide(self.service.guide) if self.service and self.service.guide else None

    def retranslate(self) -> None:
        super().retranslate()
        self.body.retranslate(self.lang)
        if self.service is None:
            self.body.clear()
            return
        lang = self.lang
        self.prompt.setText(self.service.title.get(lang))
        paragraphs = [Label(self.service.summary.get(lang))]
        if self.service.documents:
            paragraphs.append(Label(self.tr("documents_needed"), "title"))
            paragraphs += [Label(f"• {d.get(lang)}") for d in self.service.documents]
        guide = self._guide()
        if guide is not None:
            paragraphs += [Label(text, role) for role, text in guide_paragraphs(guide, lang)]
        for p in paragraphs:
            p.setProperty("keep_with_next", p.property("role") == "title")
        runnable = any(s.kind != "guide" for s in self.service.steps)
        self.start_btn.setVisible(runnable)
        self.hear_btn.setVisible(guide is not None)
        self.print_btn.setVisible(guide is not None)
        self.body.set_rows(paragraphs, self.app.restyle)

    def speak(self) -> None:
        if self.service is not None and self.lang == "zh":
            self.app.speaker.say(f"{self.service.title.get('zh')}。{self.service.summary.get('zh')}", "zh",
                                 private=False)
        else:
            super().speak()

    def _start(self) -> None:
        if self.service is not None:
            self.app.start_service(self.service)

    def _hear(self) -> None:
        guide = self._guide()
        if guide is None:
            return
        self.app.session.touch()
        if self.lang == "zh":
            self.app.speaker.say("。".join(t for _, t in guide_paragraphs(guide, "zh")), "zh", private=False)
        else:
            self.app.speaker.prompt("guide_reading", self.lang)

    def _print(self) -> None:
        guide = self._guide()
        if guide is not None:
            self.start_print(self.service.title.get(self.lang), [t for _, t in guide_paragraphs(guide, self.lang)],
                             "print_guide")


class PrintFormScreen(PrintingScreen):
    name = "print_form"
    prompt_id = "print_form"

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.tiles = TileGrid(app, 2)
        self.root.addWidget(self.tiles, 1)

    def retranslate(self) -> None:
        super().retranslate()
        self.tiles.set_tiles([
            (f"form_{f.id}", "document", f.title.get(self.lang), lambda _=False, form=f: self._print(form))
            for f in self.app.content.forms()])

    def _print(self, form: Any) -> None:
        lang = self.lang
        paras = []
        for field in form.fields:
            paras.append(f"{field.label.get(lang)}:")
            paras.extend(["_" * 30] * max(1, field.lines))
        if form.note:
            paras.append(form.note.get(lang))
        self.start_print(form.title.get(lang), paras)

