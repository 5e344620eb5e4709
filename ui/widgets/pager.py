"""Content longer than the screen, a page at a time with two big buttons: no scroll bar to fight with."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from kiosk import i18n
from ui.theme import Theme
from ui.widgets.buttons import BigButton
from ui.widgets.labels import IconLabel, Label
from ui.widgets.layout import clear_layout


class Pager(QWidget):
    """Rows shown a page at a time: as many whole rows as fit the height it is given and, only when
    they do not all fit, big "previous page" / "next page" buttons with "1 / 2" between them.

    The pager asks for no height of its own (the screen gives it the stretch): it never pushes the
    window taller. `expand` lets rows grow into spare height up to their maximum (tiles). A row with
    the property "keep_with_next" (a heading) never ends a page."""

    def __init__(self, spacing: int = 8, expand: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Pager")
        self.rows: list[QWidget] = []
        self.page = 0
        self.pages: list[range] = [range(0)]
        self.expand = expand
        self._paginating = self._again = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(spacing)
        outer.addLayout(self.body, 1)
        self.nav = QWidget()
        nav = QHBoxLayout(self.nav)
        nav.setContentsMargins(0, 0, 0, 0)
        # page buttons look unlike the flow's own (Back, Next: sideways arrows, blue)
        self.prev_btn = BigButton("page_previous", "")
        self.prev_btn.setObjectName("page_previous")
        self.prev_btn.clicked.connect(lambda: self.show_page(self.page - 1))
        self.page_label = Label("", "number", align=Qt.AlignCenter)
        self.page_label.setObjectName("page_number")
        self.next_btn = BigButton("page_next", "")
        self.next_btn.setObjectName("page_next")
        self.next_btn.clicked.connect(lambda: self.show_page(self.page + 1))
        nav.addWidget(self.prev_btn, 2)
        nav.addWidget(self.page_label, 1)
        nav.addWidget(self.next_btn, 2)
        outer.addWidget(self.nav)
        self.nav.hide()
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Ignored)

    def retranslate(self, lang: str) -> None:
        self.prev_btn.setText(i18n.tr("page_previous", lang))
        self.next_btn.setText(i18n.tr("page_next", lang))

    def set_rows(self, rows: Sequence[QWidget], style: Callable[[QWidget], None] | None = None) -> None:
        """Replace the rows (the old ones are deleted); `style` applies fonts before measuring."""
        clear_layout(self.body)
        self.rows = list(rows)
        for row in self.rows:
            row.hide()
            # a new widget counts as hidden until first shown, and a layout leaves hidden widgets out
            # of its height: mark the row's insides shown, so the row can be measured while it waits
            for inner in row.findChildren(QWidget):
                if not inner.testAttribute(Qt.WA_WState_ExplicitShowHide):
                    inner.setVisible(True)
            self.body.addWidget(row, 1 if self.expand else 0)
        self.body.addStretch(0 if self.expand else 1)  # spare height below the rows, not between them
        if style is not None:
            style(self)
        self.page = 0
        self.paginate()

    def clear(self) -> None:
        self.set_rows([])

    @staticmethod
    def _row_height(row: QWidget, width: int) -> int:
        # not minimumSizeHint: a wrapping label's minimum is its height at its (narrower) hint width
        h = row.heightForWidth(width) if row.hasHeightForWidth() else row.sizeHint().height()
        return max(h, row.minimumHeight())

    def paginate(self) -> None:
        """Split the rows into pages that fit the current height, then show the current page.

        Showing a row can resize the pager at once (a nested call): that call wins, and this one
        starts over with the new size rather than finish with the old one."""
        if self._paginating:
            self._again = True
            return
        self._paginating = True
        try:
            self._again, rounds = True, 0
            while self._again and rounds < 4:  # bounded: a size that keeps changing settles on the last
                self._again, rounds = False, rounds + 1
                self._paginate()
        finally:
            self._paginating = False

    def _paginate(self) -> None:
        width, height = self.width(), self.height()
        gap = self.body.spacing()
        heights = [self._row_height(r, width) for r in self.rows]
        if sum(heights) + gap * max(0, len(heights) - 1) <= height:
            self.pages = [range(len(self.rows))]
        else:
            nav = self.nav.sizeHint().height() if self.nav.isHidden() else self.nav.height()
            room = height - max(nav, self.nav.minimumSizeHint().height()) - self.layout().spacing()
            self.pages, start, used = [], 0, 0
            for i, h in enumerate(heights):
                if i > start and used + gap + h > room:
                    end = i
                    while end - 1 > start and self.rows[end - 1].property("keep_with_next"):
                        end -= 1  # a heading goes over with what it heads
                    self.pages.append(range(start, end))
                    start = end
                    used = sum(heights[start:i]) + gap * max(0, i - start - 1)
                used += h + (gap if i > start else 0)
            self.pages.append(range(start, len(self.rows)))
        self.show_page(self.page)

    def show_page(self, page: int) -> None:
        self.page = max(0, min(page, len(self.pages) - 1))
        shown = self.pages[self.page]
        for i, row in enumerate(self.rows):
            row.setVisible(i in shown)
        paged = len(self.pages) > 1
        self.nav.setVisible(paged)
        if paged:
            self.page_label.setText(f"{self.page + 1} / {len(self.pages)}")
            self.prev_btn.setEnabled(self.page > 0)
            self.next_btn.setEnabled(self.page + 1 < len(self.pages))

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt API): its height is whatever it is given
        return False

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.layout().sizeHint().width(), 0)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.layout().minimumSize().width(), 0)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.paginate()


class InfoPager(Pager):
    """A pager of info_rows whose labels share one column, as wide as the longest label needs and at
    most half the width: values line up, and a short label does not squeeze a long address."""

    LABEL_SHARE = 0.5

    def paginate(self) -> None:
        labels = [row.findChild(Label, "info_label") for row in self.rows]
        labels = [label for label in labels if label is not None]
        if labels:
            need = max(label.fontMetrics().horizontalAdvance(label.text()) + 2 * label._side() + 1
                       for label in labels)
            column = min(need, int(self.width() * self.LABEL_SHARE))
            for label in labels:
                label.setFixedWidth(column)
        super().paginate()


def info_rows(lines: Sequence[tuple[str, str, str]], theme: Theme, icon: str | None = None) -> list[QFrame]:
    """Label/value rows of a summary (for an InfoPager), (label, value, name of the value label) each,
    on alternating bands so the eye keeps a row across the gap between label and value. Rows touch:
    the bands separate them, spacing would only cost height a Tibetan summary does not have."""
    rows = []
    for i, (label, value, value_name) in enumerate(lines):
        row = QFrame()
        row.setObjectName("InfoRow")
        row.setProperty("band", i % 2 == 1)
        lay = QHBoxLayout(row)
        m = theme.dp(8)
        lay.setContentsMargins(m, theme.dp(4), m, theme.dp(4))
        lay.setSpacing(theme.dp(32))
        if icon:
            lay.addWidget(IconLabel(icon, 40), 0, Qt.AlignVCenter)
        words = Label(label, "body")
        words.setObjectName("info_label")
        lay.addWidget(words)
        shown = Label(value, "body")
        shown.setObjectName(value_name)
        lay.addWidget(shown, 1)
        rows.append(row)
    return rows
