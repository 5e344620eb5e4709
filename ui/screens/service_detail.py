"""A service's detail and guide: read it, hear it, print it, start it (works with the WAN down: edge content)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHBoxLayout

from ui.screens.printing import PrintingScreen
from ui.widgets.buttons import BigButton
from ui.widgets.labels import Label
from ui.widgets.pager import Pager

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


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


class ServiceDetailScreen(PrintingScreen):
    """Read, hear and print a service's guide, then start it: works with the WAN down (edge content)."""

    name = "detail"
    prompt_id = "guide_reading"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.service: Any = None
        self.body = Pager(spacing=host.theme.dp(12))  # a long guide is read a page at a time
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
            self.service = self.host.content.service(service_id)
        super().enter(**kwargs)

    def _guide(self) -> Any:
        return self.host.content.guide(self.service.guide) if self.service and self.service.guide else None

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
        self.body.set_rows(paragraphs, self.restyle)

    def speak(self) -> None:
        if self.service is not None and self.lang == "zh":
            self.host.speaker.say(f"{self.service.title.get('zh')}。{self.service.summary.get('zh')}", "zh",
                                 private=False)
        elif self.service is not None:
            self.host.speaker.title(self.service, self.lang)  # its clip, or its spoken form
        else:
            super().speak()

    def _start(self) -> None:
        if self.service is not None:
            self.host.start_service(self.service)

    def _hear(self) -> None:
        guide = self._guide()
        if guide is None:
            return
        self.host.session.touch()
        if self.lang == "zh":
            self.host.speaker.say("。".join(t for _, t in guide_paragraphs(guide, "zh")), "zh", private=False)
        else:
            self.host.speaker.prompt("guide_reading", self.lang)

    def _print(self) -> None:
        guide = self._guide()
        if guide is not None:
            self.start_print(self.service.title.get(self.lang), [t for _, t in guide_paragraphs(guide, self.lang)],
                             "print_guide")
