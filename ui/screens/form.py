"""The form, one question per page: first what the card filled in (read-only), then each field to fill.

Phone and number fields use the big keypad (no OS keyboard), choices and yes/no are big buttons,
dates are three big +/- counters. Every change goes straight into the flow, so a language switch
(which rebuilds the page) or Back never loses what was entered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from ui.screens.base import Screen
from ui.widgets.buttons import BigButton
from ui.widgets.date_entry import ANSWER_DP, DateEntry
from ui.widgets.keypad import Keypad
from ui.widgets.labels import IconLabel, Label
from ui.widgets.layout import clear_layout, scroll
from ui.widgets.pager import InfoPager, info_rows

if TYPE_CHECKING:
    from ui.screens.host import ScreenHost


class FormScreen(Screen):
    name = "form"
    prompt_id = "fill_form"

    def __init__(self, host: ScreenHost) -> None:
        super().__init__(host)
        self.page = 0
        self.pages: list[Any] = []  # "card" or a field
        self.body = QWidget()
        self.body_lay = QVBoxLayout(self.body)
        self.body_area = scroll(self.body)
        self.root.addWidget(self.body_area, 1)
        # the card page: what the card filled in, a page at a time rather than scrolled
        self.card_head = QWidget()
        head = QHBoxLayout(self.card_head)
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(IconLabel("card", 56))
        self.card_title = Label("", "title")
        head.addWidget(self.card_title, 1)
        self.root.addWidget(self.card_head)
        self.card_rows = InfoPager(spacing=0)
        self.root.addWidget(self.card_rows, 1)
        self.next_btn = BigButton("next", "", kind="primary")
        self.next_btn.setObjectName("next")
        self.next_btn.clicked.connect(self._next)
        self.root.addWidget(self.next_btn)
        self.bind(self.next_btn, "next")
        self.editor: Any = None

    @property
    def flow(self) -> Any:
        return self.host.session.flow

    def _build_pages(self) -> None:
        fields = self.flow.form_fields()
        card = [f for f in fields if self.flow.is_read_only(f)]
        self.pages = (["card"] if card else []) + [f for f in fields if not self.flow.is_read_only(f)]

    def enter(self, page: int | None = None, field_id: str | None = None, error: str | None = None,
              **kwargs: Any) -> None:
        """`field_id` opens that field's page; `error` (a catalog key) says what is wrong with it."""
        self._build_pages()
        if not self.pages:  # nothing to show or ask: on to the next step
            self.flow.next()
            self.host.show_flow_step()
            return
        self.page = 0 if page is None else max(0, min(page, len(self.pages) - 1))
        if field_id is not None:
            self.page = next((i for i, p in enumerate(self.pages) if p != "card" and p.id == field_id), 0)
        super().enter(**kwargs)
        if error is not None:
            self.banner.show_message("error", self.tr(error))

    def current_field(self) -> Any:
        p = self.pages[self.page] if self.pages else "card"
        return None if p == "card" else p

    def current_prompt_id(self) -> str:
        f = self.current_field()
        if f is not None and f.type == "phone":
            return "enter_phone"
        step_prompt = getattr(self.flow.step, "prompt", None) if self.flow is not None else None
        return step_prompt or "fill_form"

    def speak(self) -> None:
        f = self.current_field()
        if f is not None and f.type != "phone" and self.lang == "zh":
            self.host.speaker.say(f.label.get("zh"), "zh", private=False)
        else:
            super().speak()

    def retranslate(self) -> None:
        super().retranslate()
        self._clear_body()
        card = bool(self.pages) and self.flow is not None and self.current_field() is None
        self.body_area.setVisible(not card)
        self.card_head.setVisible(card)
        self.card_rows.setVisible(card)
        if not self.pages or self.flow is None:
            return
        f = self.current_field()
        if f is None:
            self._card_page()
            return
        self._field_page(f)
        self.body_lay.addStretch(1)
        self.restyle(self.body)

    def _clear_body(self) -> None:
        clear_layout(self.body_lay)
        self.card_rows.clear()
        self.editor = None

    def wipe(self) -> None:
        super().wipe()
        self.pages, self.page = [], 0
        self._clear_body()

    def _card_page(self) -> None:
        self.prompt.setText(self.host.speaker.text("fill_form", self.lang))
        self.card_title.setText(self.tr("from_card"))
        self.card_rows.retranslate(self.lang)
        lines = []
        for f in self.flow.form_fields():
            if self.flow.is_read_only(f):
                value = self.flow.value(f.id)
                if f.source == "id_number":  # never the full number on screen
                    value = self.flow.masked_id or ""
                lines.append((f.label.get(self.lang), value, f"value_{f.id}"))
        self.card_rows.set_rows(info_rows(lines, self.host.theme, icon="lock"), self.restyle)

    def _field_page(self, f: Any) -> None:
        lang = self.lang
        self.prompt.setText(f.label.get(lang) + (" *" if f.required else ""))
        hint = Label(f.hint.get(lang), "body") if f.hint is not None else None
        value = self.flow.value(f.id)
        if f.type in ("phone", "number", "text"):
            kp = Keypad(letters=f.type == "text", decimal=f.type == "number",
                        max_length=11 if f.type == "phone" else (f.max_length or 18))
            if hint is not None:
                kp.add_side(hint)
                hint = None
            card_address = self.flow.card_value("address")
            if f.type == "text" and "address" in f.id and card_address:
                # Chinese or Tibetan cannot be typed on a keypad: offer the card's address
                same = BigButton("card", self.tr("same_as_card"), kind="primary")
                same.setObjectName("same_as_card")
                same.clicked.connect(lambda _=False, k=kp, a=card_address: k.set_value(a))
                kp.add_side(same)
            kp.setObjectName("keypad")
            kp.retranslate(self.tr)
            kp.set_value(value)
            kp.changed.connect(lambda v, fid=f.id: self._set(fid, v))
            self.body_lay.addWidget(kp)
            self.editor = kp
        elif f.type in ("choice", "yesno"):
            options = ([(c.value, c.label.get(lang)) for c in f.choices] if f.type == "choice"
                       else [("yes", self.tr("yes")), ("no", self.tr("no"))])
            grid = QGridLayout()
            buttons = []
            for i, (v, words) in enumerate(options):
                b = BigButton("check" if v == value else None, words, vertical=False)
                b.min_height_dp = ANSWER_DP
                b.setObjectName(f"choice_{v}")
                b.set_selected(v == value)
                b.clicked.connect(lambda _=False, fid=f.id, val=v: self._choose(fid, val))
                grid.addWidget(b, i // 2, i % 2)
                buttons.append(b)
            self.body_lay.addLayout(grid)
            self.editor = buttons
        elif f.type == "date":
            self.editor = DateEntry(value, lambda v, fid=f.id: self._set(fid, v), self.tr)
            self.body_lay.addWidget(self.editor)
        if hint is not None:
            self.body_lay.insertWidget(0, hint)

    def _set(self, field_id: str, value: str) -> None:
        self.host.session.touch()
        self.flow.set_field(field_id, value)

    def _choose(self, field_id: str, value: str) -> None:
        self._set(field_id, value)
        self.banner.hide()
        self.retranslate()  # show the tick on the chosen button
        self._next()        # one tap answers a choice question

    def _next(self) -> None:
        self.host.session.touch()
        f = self.current_field()
        if f is not None:
            err = self.flow.field_errors([f])
            if err:
                self._show_error(err[0].message_key)
                return
        if self.page + 1 < len(self.pages):
            self.page += 1
            self.banner.hide()
            self.retranslate()
            self.speak()
            return
        errors = self.flow.next()
        if errors:  # a field on another page: go there and say what is wrong
            self.page = next((i for i, p in enumerate(self.pages) if p != "card" and p.id == errors[0].field_id), 0)
            self.retranslate()
            self._show_error(errors[0].message_key)
            return
        self.host.show_flow_step()

    def _show_error(self, key: str) -> None:
        words = self.tr(key)
        self.banner.show_message("error", words)
        if self.lang == "zh":
            self.host.speaker.say(words, "zh", private=False)

    def go_back(self) -> None:
        self.host.session.touch()
        if self.page > 0:
            self.page -= 1
            self.banner.hide()
            self.retranslate()
            self.speak()
        else:
            self.host.flow_back()

