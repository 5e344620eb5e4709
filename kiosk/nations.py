"""Nation (ethnic group) and gender codes on ID cards, named in Chinese, Tibetan and English.

Nation codes follow GB 3304-1991 in its official order (01 Han ... 56 Jino, 97 other, 98 of
foreign origin); the Chinese names are the short forms printed on the card (汉, 藏, ...).
Tibetan names use the established Tibetan names where one exists (བོད། Tibetan, རྒྱ། Han,
སོག Mongol, མོན་པ། Monba, ལྷོ་པ། Lhoba, ཨུ་རུ་སུ། Russian) and otherwise a phonetic
rendering of the Chinese name in the usual Chinese-to-Tibetan transcription (x -> ཞ, zh -> ཀྲ,
q -> ཆ); content reviewers may replace these by their own forms here.
Gender codes follow GB/T 2261.1 (0 unknown, 1 male, 2 female, 9 unspecified).
"""

from __future__ import annotations

# code -> (zh, bo, en)
NATIONS: dict[str, tuple[str, str, str]] = {
    "01": ("汉", "རྒྱ།", "Han"),
    "02": ("蒙古", "སོག", "Mongol"),
    "03": ("回", "ཧུའེ།", "Hui"),
    "04": ("藏", "བོད།", "Tibetan"),
    "05": ("维吾尔", "ཝེ་གུར།", "Uyghur"),
    "06": ("苗", "མའོ།", "Miao"),
    "07": ("彝", "ཡི།", "Yi"),
    "08": ("壮", "ཀྲོང་།", "Zhuang"),
    "09": ("布依", "པུའུ་ཡི།", "Bouyei"),
    "10": ("朝鲜", "ཁྲའོ་ཞན།", "Korean"),
    "11": ("满", "མན་ཇུ།", "Manchu"),
    "12": ("侗", "ཏུང་།", "Dong"),
    "13": ("瑶", "ཡའོ།", "Yao"),
    "14": ("白", "པའེ།", "Bai"),
    "15": ("土家", "ཐུའུ་ཅ།", "Tujia"),
    "16": ("哈尼", "ཧ་ནི།", "Hani"),
    "17": ("哈萨克", "ཧ་སག", "Kazak"),
    "18": ("傣", "ཏའེ།", "Dai"),
    "19": ("黎", "ལི།", "Li"),
    "20": ("傈僳", "ལི་སུའུ།", "Lisu"),
    "21": ("佤", "ཝ།", "Va"),
    "22": ("畲", "ཧྲེ།", "She"),
    "23": ("高山", "ཀའོ་ཧྲན།", "Gaoshan"),
    "24": ("拉祜", "ལ་ཧུ།", "Lahu"),
    "25": ("水", "ཧྲོའེ།", "Sui"),
    "26": ("东乡", "ཏུང་ཞང་།", "Dongxiang"),
    "27": ("纳西", "ན་ཞི།", "Naxi"),
    "28": ("景颇", "ཅིང་ཕོ།", "Jingpo"),
    "29": ("柯尔克孜", "ཁེ་ཨར་ཁེ་ཙི།", "Kirgiz"),
    "30": ("土", "ཐུའུ།", "Tu"),
    "31": ("达斡尔", "ཏ་ཝོར།", "Daur"),
    "32": ("仫佬", "མུའུ་ལའོ།", "Mulao"),
    "33": ("羌", "ཆང་།", "Qiang"),
    "34": ("布朗", "པུའུ་ལང་།", "Blang"),
    "35": ("撒拉", "ས་ལ།", "Salar"),
    "36": ("毛南", "མའོ་ནན།", "Maonan"),
    "37": ("仡佬", "ཀེ་ལའོ།", "Gelao"),
    "38": ("锡伯", "ཞི་པོ།", "Xibe"),
    "39": ("阿昌", "ཨ་ཁྲང་།", "Achang"),
    "40": ("普米", "ཕུའུ་མི།", "Pumi"),
    "41": ("塔吉克", "ཐ་ཅི་ཁེ།", "Tajik"),
    "42": ("怒", "ནུའུ།", "Nu"),
    "43": ("乌孜别克", "ཨུ་ཙི་པེ་ཁེ།", "Uzbek"),
    "44": ("俄罗斯", "ཨུ་རུ་སུ།", "Russian"),
    "45": ("鄂温克", "ཨོ་ཝུན་ཁེ།", "Ewenki"),
    "46": ("德昂", "ཏེ་ཨང་།", "Deang"),
    "47": ("保安", "པའོ་ཨན།", "Bonan"),
    "48": ("裕固", "ཡུ་གུ།", "Yugur"),
    "49": ("京", "ཅིང་།", "Gin"),
    "50": ("塔塔尔", "ཐ་ཐར།", "Tatar"),
    "51": ("独龙", "ཏུའུ་ལུང་།", "Derung"),
    "52": ("鄂伦春", "ཨོ་ལུན་ཁྲུན།", "Oroqen"),
    "53": ("赫哲", "ཧེ་ཀྲེ།", "Hezhen"),
    "54": ("门巴", "མོན་པ།", "Monba"),
    "55": ("珞巴", "ལྷོ་པ།", "Lhoba"),
    "56": ("基诺", "ཅི་ནོ།", "Jino"),
    "97": ("其他", "གཞན།", "Other"),
    "98": ("外国血统中国籍人士", "ཕྱི་རྒྱལ་རིགས་རྒྱུད་ཀྱི་ཀྲུང་གོའི་རྒྱལ་ཁོངས་པ།",
           "Chinese citizen of foreign origin"),
}

GENDERS: dict[str, tuple[str, str, str]] = {
    "0": ("未知", "མི་ཤེས།", "unknown"),
    "1": ("男", "ཕོ།", "male"),
    "2": ("女", "མོ།", "female"),
    "9": ("未说明", "གསལ་བཤད་མེད།", "unspecified"),
}

_LANG_INDEX = {"zh": 0, "bo": 1, "en": 2}


def _normalise(code: str | int, width: int) -> str:
    return f"{code:0{width}d}" if isinstance(code, int) else code.strip().zfill(width)


def nation_name(code: str | int, lang: str = "zh") -> str:
    """The nation's name in `lang` (zh, bo; anything else gives English).

    An unknown code comes back unchanged so a screen shows what the card holds rather than
    nothing; an empty code (Hong Kong/Macao/Taiwan permits, foreigners) gives "".
    """
    if code == "":
        return ""
    key = _normalise(code, 2)
    names = NATIONS.get(key)
    return names[_LANG_INDEX.get(lang, 2)] if names else str(code)


def gender_name(code: str | int, lang: str = "zh") -> str:
    """The gender's name in `lang`; unknown codes come back unchanged."""
    names = GENDERS.get(_normalise(code, 1))
    return names[_LANG_INDEX.get(lang, 2)] if names else str(code)
