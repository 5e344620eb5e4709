"""Words on the maintenance screens, in Tibetan, Chinese and English.

Kept beside the screens (not in the resident catalog): county IT staff read these, residents never
do, and some are Latin script in every language ("QR"). Looked up the way kiosk.i18n looks up its own:
English for an unknown language, an unknown key logged and shown as itself.
"""

from __future__ import annotations

from kiosk import i18n
from kiosk.status import Level

_T: dict[str, tuple[str, str, str]] = {  # key: (bo, zh, en)
    "title": ("ཉམས་གསོ།", "维护", "Maintenance"),
    "close": ("ཁ་རྒྱག", "关闭", "Close"),
    "cancel": ("ཕྱིར་འཐེན།", "取消", "Cancel"),
    "ok": ("གཏན་འཁེལ།", "确定", "OK"),
    "backspace": ("བསུབ།", "删除", "Delete"),
    "pin_prompt": ("ཉམས་གསོའི་གསང་ཨང་འཇུག་རོགས།", "请输入维护密码", "Enter the maintenance PIN"),
    "pin_checking": ("ར་སྤྲོད་བྱེད་བཞིན་པ།", "正在验证…", "Checking…"),
    "pin_wrong": ("གསང་ཨང་ནོར་འདུག ད་དུང་ཐེངས་ {n} ཚོད་ལྟ་བྱེད་ཆོག", "密码错误，还可尝试 {n} 次",
                  "Wrong PIN. {n} tries left"),
    "pin_locked": ("ཟྭ་བརྒྱབ་ཟིན། {t} རྗེས་སུ་ཡང་བསྐྱར་ཚོད་ལྟ་གྱིས།", "已锁定，请 {t} 后再试",
                   "Locked. Try again in {t}"),
    "pin_disabled": ("འཕྲུལ་ཆས་འདིར་ཉམས་གསོའི་གསང་ཨང་བཀོད་མེད་པས་ཉམས་གསོ་བཀག་ཡོད།",
                     "本机未设置维护密码，维护功能已停用", "Maintenance is disabled: no PIN is set on this kiosk"),
    "pin_error": ("ར་སྤྲོད་བྱེད་མ་ཐུབ། ཡང་བསྐྱར་ཚོད་ལྟ་གྱིས།", "验证出错，请重试", "Could not check the PIN. Try again"),
    "devices": ("སྒྲིག་ཆས་ཀྱི་གནས་སྟངས།", "设备状态", "Devices"),
    "system": ("མ་ལག", "系统", "System"),
    "tests": ("རང་ཞིབ།", "自检", "Self-tests"),
    "test_card": ("ཐོབ་ཐང་ལག་ཁྱེར་ཀློག", "读身份证", "Read ID card"),
    "test_print": ("ཚོད་ལྟའི་ཤོག་བྱང་པར་འདེབས།", "打印测试小票", "Print test receipt"),
    "camera_start": ("པར་ཆས་སྔོན་ལྟ།", "摄像头预览", "Camera preview"),
    "camera_stop": ("སྔོན་ལྟ་མཚམས་འཇོག", "停止预览", "Stop preview"),
    "speak": ("སྐད་ཚོད་ལྟ། {language}", "语音测试：{language}", "Speak: {language}"),
    "running": ("བྱེད་བཞིན་པ།", "正在进行…", "Running…"),
    "test_failed": ("ཚོད་ལྟ་ཕམ།", "测试失败", "Test failed"),
    "no_frame": ("པར་ཆས་ཀྱི་པར་རིས་མི་འདུག", "没有摄像头画面", "No camera image"),
    "camera_found": ("QR {qr} གདོང་ {faces}", "二维码 {qr} 个，人脸 {faces} 张", "QR codes: {qr}, faces: {faces}"),
    "qr_mark": ("QR", "二维码", "QR"),
    "face_mark": ("གདོང་།", "人脸", "face"),
    "content_version": ("ནང་དོན་གྱི་པར་གཞི།", "内容版本", "Content version"),
    "outbox": ("བསྐུར་རྒྱུ་ལྷག་མ།", "待发送", "Outbox"),
    "outbox_value": ("ཡིག་ཆ་ {n} ཆེས་རྙིང་བ་ {age}", "{n} 件，最早的已等 {age}", "{n} waiting, oldest {age}"),
    "wan": ("ཕྱི་དྲ།", "外网", "WAN"),
    "dead_letters": ("སྐྱེལ་མ་ཐུབ་པ།", "无法送达", "Dead letters"),
    "dead_value": ("ཡིག་ཆ་ {n} ཆེས་རྙིང་བ་ {age} སྔོན་ལ། ལས་བྱེད་པས་ཐག་གཅོད་དགོས།", "{n} 件，最早的在 {age} 前，需要人工处理",
                   "{n}, oldest {age} ago: staff must act"),
    "content_refused": ("ནང་དོན་ཐུམ་སྒྲིལ་ངོས་མ་ལེན་པ།", "被拒绝的内容包", "Refused content pack"),
    "refused_value": ("པར་གཞི་ {version} ངོས་ལེན་མ་བྱས། {why}", "版本 {version} 已拒绝：{why}",
                      "Version {version} refused: {why}"),
    "refusal.unknown_key": ("མིང་རྟགས་ཀྱི་ལྡེ་མིག་འདིར་ཐོ་འགོད་བྱས་མེད།", "签名密钥未在本机登记",
                            "signed with a key this edge does not trust"),
    "refusal.expired": ("མིང་རྟགས་ཀྱི་དུས་ཚོད་ཡོལ་ཟིན།", "签名已过期，请检查本机时钟", "signature expired; check the clock"),
    "refusal.bad_signature": ("མིང་རྟགས་མི་མཐུན།", "签名不符，内容可能被篡改", "signature does not match"),
    "refusal.hash_mismatch": ("ཡིག་ཆ་དང་མིང་རྟགས་ཐོ་གཞུང་མི་མཐུན།", "文件与签名清单不符", "a file does not match the signed list"),
    "refusal.rollback": ("པར་གཞི་འདི་ད་ལྟ་བེད་སྤྱོད་བྱེད་བཞིན་པ་ལས་རྙིང་།", "版本比正在使用的旧", "older than the version in use"),
    "refusal.unsigned": ("ནང་དོན་ཐུམ་སྒྲིལ་ལ་མིང་རྟགས་མེད།", "内容包没有签名", "not signed"),
    "unconfirmed": ("གཏན་འཁེལ་ཤོག་བུ་སུས་ཀྱང་མ་མཐོང་བའི་ཞུ་ཡིག ({n})", "回执无人看到的申请（{n}）",
                    "Applications whose receipt nobody saw ({n})"),
    "print_receipt": ("གཏན་འཁེལ་ཤོག་བུ་པར་འདེབས།", "打印回执", "Print receipt"),
    "receipt_printed": ("པར་བསྐྲུན་ཟིན། ཞུ་ཡིག་པ་ལ་སྤྲོད་རོགས།", "已打印，请交给申请人", "Printed: hand it to the applicant"),
    "missing_clips": ("ཆད་པའི་བོད་སྐད་སྒྲ་ཆ། ({n})", "缺少的藏语录音（{n}）", "Missing Tibetan clips ({n})"),
    # how prompts are heard, per language (bo: to be reviewed by the translators)
    "voice.bo": ("བོད་སྐད་ཀྱི་སྒྲ།", "藏语语音", "Tibetan voice"),
    "voice.zh": ("རྒྱ་སྐད་ཀྱི་སྒྲ།", "汉语语音", "Mandarin voice"),
    "voice_counts": ("སྒྲ་ཆ་ {clip} · ཚབ་སྒྲ་ {stand_in} (ཕ་སྐད་པའི་སྒྲ་མིན།) · བཟོས་སྒྲ་ {synthetic} · སྒྲ་མེད་ {silent}",
                     "录音 {clip} · 替代录音 {stand_in}（非母语录音）· 合成 {synthetic} · 无声 {silent}",
                     "clips {clip} · stand-in {stand_in} (not a native recording) · synthetic {synthetic} · "
                     "silent {silent}"),
    "none": ("མེད།", "无", "none"),
    "unavailable": ("ལེན་མ་ཐུབ།", "无法获取", "unavailable"),
    "more": ("གཞན་ {n}", "另有 {n} 项", "{n} more"),
    # durations
    "age_s": ("སྐར་ཆ་ {n}", "{n} 秒", "{n} s"),
    "age_min": ("སྐར་མ་ {n}", "{n} 分钟", "{n} min"),
    "age_h": ("ཆུ་ཚོད་ {n}", "{n} 小时", "{n} h"),
    "age_d": ("ཉིན་ {n}", "{n} 天", "{n} d"),
    # components (unknown ones show their key)
    "component.card_reader": ("ཐོབ་ཐང་ལག་ཁྱེར་ཀློག་ཆས།", "身份证读卡器", "ID card reader"),
    "component.printer": ("ཤོག་བྱང་པར་འདེབས་ཆས།", "小票打印机", "Receipt printer"),
    "component.a4_printer": ("A4 པར་འདེབས་ཆས།", "A4 打印机", "A4 printer"),
    "component.camera": ("པར་ཆས།", "摄像头", "Camera"),
    "component.voice": ("སྒྲ་སྐད།", "语音", "Voice"),
    "component.edge": ("ས་གནས་ཞབས་ཞུའི་འཕྲུལ་ཆས།", "边缘节点", "Edge node"),
    # card kinds (unknown ones show their key)
    "card.resident": ("ཐོབ་ཐང་ལག་ཁྱེར།", "居民身份证", "Resident ID card"),
    "card.hmt_permit": ("ཞང་ཀང་དང་ཨོ་མོན། ཐའེ་ཝན་གནས་སྡོད་ལག་ཁྱེར།", "港澳台居民居住证",
                        "HK/Macao/Taiwan residence permit"),
    "card.foreigner_old": ("ཕྱི་རྒྱལ་བའི་གཏན་སྡོད་ལག་ཁྱེར། (རྙིང་པ།)", "外国人永久居留身份证（旧版）",
                           "Foreign permanent residence card (old)"),
    "card.foreigner_2023": ("ཕྱི་རྒྱལ་བའི་གཏན་སྡོད་ལག་ཁྱེར།", "外国人永久居留身份证",
                            "Foreign permanent residence card"),
}

# Language names are shown in their own script, whatever the screen language.
LANGUAGE_NAMES = {"bo": "བོད་སྐད།", "zh": "中文", "en": "English"}
LANGUAGES = ("bo", "zh", "en")

# A level is never told by colour alone: an icon and a word always come with it.
_LEVELS: dict[Level, tuple[str, tuple[str, str, str]]] = {
    Level.OK: ("✔", ("རྒྱུན་ལྡན།", "正常", "OK")),
    Level.DEGRADED: ("⚠", ("དོ་སྣང་།", "注意", "Degraded")),
    Level.FAULT: ("✖", ("སྐྱོན་ཤོར།", "故障", "Fault")),
}


def tr(key: str, lang: str, **values: object) -> str:
    return i18n.lookup(_T, key, lang, **values)


def tr_or(key: str, fallback: str, lang: str) -> str:
    """Translated name for a component or card kind; its raw key when none is known."""
    return tr(key, lang) if key in _T else fallback


def level_text(level: Level, lang: str) -> str:
    icon, words = _LEVELS[level]
    return f"{icon} {i18n.words(words, lang)}"


def format_age(seconds: float, lang: str) -> str:
    s = max(0, int(seconds))
    if s < 120:
        return tr("age_s", lang, n=s)
    if s < 2 * 3600:
        return tr("age_min", lang, n=s // 60)
    if s < 2 * 86400:
        return tr("age_h", lang, n=s // 3600)
    return tr("age_d", lang, n=s // 86400)


def format_countdown(seconds: int) -> str:
    """m:ss, the same in every language."""
    return f"{seconds // 60}:{seconds % 60:02d}"
