"""The kiosk UI's own words (buttons, errors, status names) in Tibetan, Chinese and English.

Why one Python catalog and not Qt Linguist (.ts/.qm): the same strings are shown on screen, spoken
by the voice driver and printed on receipts (rendered by the printer module, which runs outside any
widget), and the flow engine in kiosk/ must produce error codes that become words without importing
Qt. A plain catalog keyed by a stable id serves all three and keeps kiosk/ free of Qt; a language
switch re-renders by looking the keys up again. Screen prompts that are *spoken on arrival* are not
here: they come from the content pack's prompts (recorded clip first), so administrators can change
them without a software release.

English is for logs and developers; residents see bo or zh. Tibetan needs review by a native
translator before production (like the demo pack's texts).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

log = logging.getLogger(__name__)

LANGS = ("bo", "zh")

# key: (bo, zh, en)
_CATALOG: dict[str, tuple[str, str, str]] = {
    # --- the common bar ---------------------------------------------------------------------
    "home": ("གཙོ་ངོས།", "首页", "Home"),
    "back": ("ཕྱིར་ལོག", "返回", "Back"),
    "next": ("མུ་མཐུད།", "下一步", "Next"),
    "repeat": ("ཡང་བསྐྱར་ཉན།", "再听一遍", "Repeat"),
    "stop": ("མཚམས་འཇོག", "停止", "Stop"),
    "volume": ("སྒྲ་ཚད།", "音量", "Volume"),
    "louder": ("སྒྲ་ཆེ་རུ།", "大声", "Louder"),
    "quieter": ("སྒྲ་ཆུང་རུ།", "小声", "Quieter"),
    "language_other": ("中文", "བོད་ཡིག", "Language"),  # the button names the OTHER language
    "larger_text": ("ཡི་གེ་ཆེ་རུ།", "大字", "Larger text"),
    "normal_text": ("ཡི་གེ་རྒྱུན་ལྡན།", "标准字", "Normal text"),
    "help": ("རོགས་རམ།", "求助", "Help"),
    # --- home ---------------------------------------------------------------------------------
    "services": ("ཞབས་ཞུ།", "办事", "Services"),
    "progress_lookup": ("ལས་དོན་གྱི་འཕེལ་རིམ།", "查进度", "Check progress"),
    "print_form": ("རེའུ་མིག་པར་འདེབས།", "打印表格", "Print a form"),
    "choose_service": ("ཞབས་ཞུ་ཞིག་འདེམས་རོགས།", "请选择要办的事", "Choose a service"),
    "no_services": ("ད་ལྟ་ཞབས་ཞུ་མི་འདུག", "暂时没有可办的事", "No services available"),
    # --- service detail / guide -------------------------------------------------------------
    "documents_needed": ("དགོས་པའི་ཡིག་ཆ།", "需要带的材料", "Documents needed"),
    "start": ("འགོ་འཛུགས།", "开始办理", "Start"),
    "hear_guide": ("ལམ་སྟོན་ཉན།", "听办事指南", "Hear the guide"),
    "print_guide": ("ལམ་སྟོན་པར་འདེབས།", "打印办事指南", "Print the guide"),
    "printing": ("པར་འདེབས་བཞིན་པ།", "正在打印", "Printing"),
    "printed": ("པར་བསྐྲུན་ཟིན། ཤོག་བུ་ལེན་རོགས།", "打印好了，请取走", "Printed. Please take it."),
    # --- identify ------------------------------------------------------------------------------
    "insert_card": ("ཐོབ་ཐང་ལག་ཁྱེར་ཀློག་ཆས་ཀྱི་སྟེང་དུ་ཞོག་རོགས།", "请把身份证放在读卡区",
                    "Place your ID card on the reader"),
    "reading_card": ("ལག་ཁྱེར་ཀློག་བཞིན་པ། མ་འཕྲོག་རོགས།", "正在读卡，请不要拿走", "Reading the card, leave it there"),
    "card_error_retry": ("ལག་ཁྱེར་ཀློག་མ་ཐུབ། ལག་ཁྱེར་ཕྱིར་བླངས་ནས་ཡང་བསྐྱར་ཞོག་རོགས།",
                         "没读出来。请把身份证拿起来，再放一次", "Could not read it. Take the card off and put it back."),
    "card_error_counter": ("ལག་ཁྱེར་ཀློག་མ་ཐུབ། ཞབས་ཞུའི་སྒོ་ཁར་ཕེབས་རོགས།", "还是读不出来，请到窗口找工作人员帮忙",
                           "Still unreadable. Please go to the counter for help."),
    "use_qr_instead": ("གཏན་འཁེལ་ཤོག་བུའི་ QR བརྒྱུད་", "用回执上的二维码", "Use the receipt QR code"),
    "use_card_instead": ("ཐོབ་ཐང་ལག་ཁྱེར་བེད་སྤྱོད།", "用身份证", "Use the ID card"),
    "qr_not_receipt": ("QR ཨང་རྟགས་འདི་གཏན་འཁེལ་ཤོག་བུའི་མིན།", "这不是回执上的二维码", "That is not a receipt QR code"),
    # --- form ----------------------------------------------------------------------------------
    "fill_form": ("གནས་ཚུལ་འདི་དག་ཞིབ་བཤེར་གྱིས་ནས་ཁ་སྐོང་རོགས།", "请核对并填写下面的信息",
                  "Check and fill in the details"),
    "from_card": ("ལག་ཁྱེར་ནས་ཀློག་པ།", "来自身份证", "From the ID card"),
    "enter_phone": ("ཁ་པར་ཨང་གྲངས་འབྲི་རོགས།", "请输入手机号码", "Enter your mobile number"),
    "same_as_card": ("ལག་ཁྱེར་སྟེང་གི་ཁ་བྱང་དང་གཅིག་པ།", "和身份证上的地址一样", "Same as on the ID card"),
    "not_filled": ("ད་དུང་མ་བྲིས།", "还没填", "Not filled in"),
    "delete": ("སུབ།", "删除", "Delete"),
    "clear": ("ཚང་མ་སུབ།", "清空", "Clear"),
    "done": ("ཚར་སོང་།", "好了", "Done"),
    "yes": ("ཡིན།", "是", "Yes"),
    "no": ("མིན།", "否", "No"),
    "year": ("ལོ།", "年", "Year"),
    "month": ("ཟླ།", "月", "Month"),
    "day": ("ཚེས།", "日", "Day"),
    # --- field errors (codes from kiosk.flows.validation) -----------------------------------
    "err_required": ("འདི་ངེས་པར་དུ་འབྲི་དགོས།", "这一项必须填写", "This is required"),
    "err_phone": ("ཁ་པར་ཨང་གྲངས་ལ་ཨང་ ༡༡ དགོས། ༡ ནས་འགོ་འཛུགས།", "手机号码应是以1开头的11位数字",
                  "A mobile number has 11 digits starting with 1"),
    "err_number": ("ཨང་གྲངས་ཁོ་ན་འབྲི་རོགས།", "请只输入数字", "Digits only"),
    "err_too_small": ("ཨང་གྲངས་ཆུང་དྲགས།", "数字太小了", "The number is too small"),
    "err_too_large": ("ཨང་གྲངས་ཆེ་དྲགས།", "数字太大了", "The number is too large"),
    "err_too_short": ("ཡི་གེ་ཉུང་དྲགས།", "内容太短了", "Too short"),
    "err_too_long": ("ཡི་གེ་མང་དྲགས།", "内容太长了", "Too long"),
    "err_pattern": ("རྣམ་པ་མི་འགྲིག", "格式不对", "Wrong format"),
    "err_choice": ("གདམ་ག་ཞིག་འདེམས་རོགས།", "请从选项中选一个", "Choose one of the options"),
    "err_date": ("ཚེས་གྲངས་མི་འགྲིག", "日期不对", "Not a valid date"),
    "err_yesno": ("ཡིན་ནམ་མིན་འདེམས་རོགས།", "请选择是或否", "Choose yes or no"),
    "err_read_only": ("འདི་ལག་ཁྱེར་ནས་ཀློག་པ་ཡིན། བསྒྱུར་མི་ཐུབ།", "这一项来自身份证，不能修改",
                      "This comes from the ID card and cannot be changed"),
    "err_photo_required": ("པར་ངེས་པར་དུ་དགོས།", "这件事需要拍照", "A photo is required"),
    "err_unknown": ("ནོར་འཁྲུལ་བྱུང་།", "出了点问题", "Something went wrong"),
    # --- photo ---------------------------------------------------------------------------------
    "take_photo": ("པར་ཆས་ལ་ལྟོས་ནས་པར་ལེན་རོགས།", "请看着摄像头拍照", "Look at the camera for a photo"),
    "capture": ("པར་ལེན།", "拍照", "Take photo"),
    "skip_photo": ("པར་མི་ལེན།", "不拍照", "No photo"),
    "photo_taken": ("པར་བླངས་ཟིན།", "已拍照", "Photo taken"),
    "photo_none": ("པར་མེད།", "未拍照", "No photo"),
    "face_ok": ("ཡག་པོ་འདུག དེ་ག་རང་སྡོད།", "很好，请保持不动", "Good, hold still"),
    "face_no_face": ("ཁྱེད་ཀྱི་གདོང་པ་མི་མཐོང་། པར་ཆས་ཀྱི་མདུན་དུ་སྡོད་རོགས།", "看不到您的脸，请站到摄像头前面",
                     "We cannot see your face; stand in front of the camera"),
    "face_move_closer": ("ཉེ་རུ་ཤོག", "请再靠近一点", "Come a little closer"),
    "face_move_left": ("གཡོན་དུ་ཅུང་ཙམ་སྤོ་རོགས།", "请往左边挪一点", "Move a little to the left"),
    "face_move_right": ("གཡས་སུ་ཅུང་ཙམ་སྤོ་རོགས།", "请往右边挪一点", "Move a little to the right"),
    "face_look_at_camera": ("པར་ཆས་ལ་ཐད་ཀར་ལྟོས།", "请正对摄像头", "Look straight at the camera"),
    "camera_unavailable": ("པར་ཆས་བེད་སྤྱོད་མི་ཐུབ།", "摄像头暂时不能用", "The camera is not available"),
    # --- confirm / submit / result ------------------------------------------------------------
    "page_previous": ("ཤོག་ངོས་སྔོན་མ།", "上一页", "Previous page"),
    "page_next": ("ཤོག་ངོས་རྗེས་མ།", "下一页", "Next page"),
    "confirm_yes": ("ཡང་དག་རེད། ཞུ་ཡིག་འབུལ།", "对，提交", "Correct, submit"),
    "confirm_change": ("བཅོས་དགོས།", "要修改", "Change something"),
    "photo": ("པར།", "照片", "Photo"),
    "submitting": ("ཞུ་ཡིག་འབུལ་བཞིན་པ། ཅུང་ཙམ་སྒུག་རོགས།", "正在提交，请稍等", "Submitting, please wait"),
    "try_again": ("ཡང་བསྐྱར་ཚོད་ལྟ།", "再试一次", "Try again"),
    "submit_rejected": ("ཞུ་ཡིག་འདི་དང་ལེན་མ་བྱས། ཞབས་ཞུའི་སྒོ་ཁར་ཕེབས་རོགས།", "申请没有被接收，请到窗口咨询",
                        "The application was not accepted. Please ask at the counter."),
    # a submit with no answer (issue 9; Tibetan pending native review like the rest, see above)
    "submit_unknown": ("ཞུ་ཡིག་སླེབས་མིན་མི་གསལ། ཡང་བསྐྱར་ཚོད་ལྟ་བྱེད་རོགས། ཡང་ན་ཞབས་ཞུའི་སྒོ་ཁར་ཕེབས་རོགས།",
                       "没有收到回复，不知道申请是否已经提交。请再试一次，或者到窗口找工作人员",
                       "No answer: we do not know whether the application arrived. Try again, or go to the counter."),
    # the edge's disk is full: nothing was stored (bo: to be reviewed by the translators)
    "submit_storage_full": ("འཕྲུལ་ཆས་འདིའི་ཉར་ཚགས་ས་སྟོང་ཁེངས་ཚར་བས་ཞུ་ཡིག་འབུལ་མ་ཐུབ། ཞབས་ཞུའི་སྒོ་ཁར་ཕེབས་རོགས།",
                            "本机存储空间已满，申请没有提交。请到窗口办理",
                            "This kiosk's storage is full: the application was not handed in. Please go to the counter."),
    "submit_wait": ("ཞུ་ཡིག་འབུལ་བཞིན་པ། མ་ཕེབས་པར་ཅུང་ཙམ་སྒུག་རོགས།", "申请正在提交，请稍等，先不要离开",
                    "Your application is being sent. Please wait a moment before leaving."),
    "go_to_counter": ("ཞབས་ཞུའི་སྒོ་ཁར་འགྲོ།", "到窗口办理", "Go to the counter"),
    "submit_counter_done": ("ཞབས་ཞུའི་སྒོ་ཁར་ཕེབས་རོགས། ལས་བྱེད་པས་ཁྱེད་ཀྱི་ཞུ་ཡིག་ལ་རོགས་རམ་བྱེད་ངེས།",
                            "请到窗口，工作人员会帮您查清这份申请",
                            "Please go to the counter: staff will help you with your application."),
    # a receipt printed later by staff, for an application whose receipt no resident saw
    "receipt_id_unknown": ("མི་གསལ། ལས་བྱེད་པས་ཞིབ་བཤེར་གནང་རོགས།", "未知，请工作人员核对身份证",
                           "Not known: staff, please check the ID card"),
    "receipt_staff_copy": ("གཏན་འཁེལ་ཤོག་བུ་འདི་ལས་བྱེད་པས་རྗེས་སུ་པར་བསྐྲུན་པ་ཡིན།", "此回执由工作人员补打",
                           "This receipt was printed later by staff"),
    "submitted_online": ("ཞུ་ཡིག་ཕུལ་ཟིན།", "已经提交成功", "Submitted"),
    "submitted_offline": ("ཞུ་ཡིག་ཉར་ཟིན། དྲ་བ་མཐུད་མ་ཐག་མཐོ་རིམ་ལ་བསྐུར་རྒྱུ།", "已保存，网络恢复后自动上报",
                          "Saved; it will be sent on when the network is back"),
    "id_number": ("ཐོབ་ཐང་ལག་ཁྱེར་ཨང་གྲངས།", "身份证号", "ID number"),
    "date": ("ཚེས་གྲངས།", "日期", "Date"),
    "tracking_number": ("ཞིབ་འཚོལ་ཨང་གྲངས།", "受理编号", "Tracking number"),
    "receipt_printing": ("གཏན་འཁེལ་ཤོག་བུ་པར་འདེབས་བཞིན་པ།", "正在打印回执", "Printing your receipt"),
    "receipt_take": ("གཏན་འཁེལ་ཤོག་བུ་ལེན་རོགས། ཉར་ཚགས་ཡག་པོ་གྱིས།", "请取走回执，妥善保管",
                     "Please take your receipt and keep it"),
    "receipt_counter": ("གཏན་འཁེལ་ཤོག་བུ་པར་འདེབས་མ་ཐུབ། ཨང་གྲངས་འདི་ཞབས་ཞུའི་སྒོ་ཁར་བསྟན་ནས་ལེན་རོགས།",
                        "回执没能打印。请记下这个编号，到窗口领取回执", "The receipt could not print. "
                        "Show this number at the counter to collect it."),
    "finish": ("ཚར་སོང་།", "办完了", "Finish"),
    # --- lookup -----------------------------------------------------------------------------
    "lookup_choose": ("ལག་ཁྱེར་རམ་གཏན་འཁེལ་ཤོག་བུས་འཚོལ།", "用身份证或回执查询", "Look up with the ID card or the receipt"),
    "lookup_none": ("ཞུ་ཡིག་གང་ཡང་མི་འདུག", "没有查到申请", "No applications found"),
    "lookup_offline": ("དྲ་བ་མཐུད་མེད། གཤམ་གྱི་གནས་སྟངས་ནི་ {as_of} གི་ཡིན།", "网络不通，下面是截至 {as_of} 的状态",
                       "Offline: last known status as of {as_of}"),
    "lookup_failed": ("འཚོལ་ཞིབ་བྱེད་མ་ཐུབ། རྗེས་སུ་ཚོད་ལྟ་བྱེད་རོགས།", "暂时查不了，请稍后再试",
                      "Cannot look it up now. Please try later."),
    "lookup_unsupported": ("འཚོལ་ཞིབ་འདི་ཞབས་ཞུའི་སྒོ་ཁར་བྱེད་རོགས།", "这项查询请到窗口办理",
                           "This lookup is done at the counter"),
    "status_queued": ("བསྐུར་རྒྱུ་སྒུག་བཞིན་པ།", "等待上报", "Waiting to be sent"),
    "status_received": ("ལེན་ཟིན།", "已受理", "Received"),
    "status_in_review": ("ཞིབ་བཤེར་བྱེད་བཞིན་པ།", "审核中", "Being reviewed"),
    "status_approved": ("ཆོག་མཆན་ཐོབ་ཟིན།", "已批准", "Approved"),
    "status_rejected": ("ཆོག་མཆན་མ་ཐོབ།", "未批准", "Not approved"),
    "status_undeliverable": ("ཞུ་ཡིག་མཐོ་རིམ་ལ་སླེབས་མེད། ཞབས་ཞུའི་སྒོ་ཁར་དྲི་རོགས།", "申请没能送达，请到窗口咨询",
                             "Not delivered; please ask at the counter"),
    "status_unknown": ("གནས་སྟངས་མི་གསལ།", "状态不明", "Status unknown"),
    # --- social-insurance payments (kiosk.flows.payments) --------------------------------------
    # kind names carry no closing shad: they sit inside sentences ("{kind}་...")
    "payment_kind_pension": ("རྒས་གསོའི་ཉེན་བཅོལ", "养老保险", "Pension insurance"),
    "payment_kind_medical": ("སྨན་བཅོས་ཉེན་བཅོལ", "医疗保险", "Medical insurance"),
    "payment_kind_other": ("ཉེན་བཅོལ་གཞན", "其他保险", "Other insurance"),
    "payer_paid": ("རང་ཉིད་ཀྱིས་སྤྲད་ཟིན།", "本人已缴", "Paid by you"),
    "payer_government_paid": ("གཞུང་གིས་ཚབ་སྤྲད་ཟིན།", "政府代缴", "Paid by the government for you"),
    "payer_arrears": ("འཐུས་མ་སྤྲད། སྤྲོད་དགོས།", "欠缴，还没交", "Not paid: still owed"),
    "payment_month": ("སྤྱི་ལོ་ {year} ཟླ་ {month} པ།", "{year}年{month}月", "{year}-{month}"),
    "payment_amount": ("སྒོར་ {amount}", "{amount} 元", "{amount} yuan"),
    "payments_all_paid": ("ཉེ་ཆར་ཟླ་བ་ {months} རིང་གི་{kind}་འཐུས་ཚང་མ་སྤྲད་ཟིན།", "最近{months}个月{kind}都已缴费",
                          "{kind}: all of the last {months} months are paid"),
    "payments_some_arrears": ("ཉེ་ཆར་ཟླ་བ་ {months} རིང་གི་{kind}་འཐུས། ཟླ་བ་ {covered} སྤྲད་ཟིན། ཟླ་བ་ {arrears} "
                              "མ་སྤྲད། ({which})", "最近{months}个月{kind}：{covered}个月已缴费，{arrears}个月欠缴（{which}）",
                              "{kind}, last {months} months: {covered} paid, {arrears} not paid ({which})"),
    "payments_some_unknown": ("ཉེ་ཆར་ཟླ་བ་ {months} རིང་གི་{kind}་འཐུས། ཟླ་བ་ {covered} སྤྲད་ཟིན། གཞན་དག་ཞབས་ཞུའི་སྒོ་ཁར་དྲི་རོགས།",
                              "最近{months}个月{kind}：{covered}个月已缴费，其余请到窗口咨询",
                              "{kind}, last {months} months: {covered} paid; ask at the counter about the rest"),
    "payments_and_more": (" སོགས།", "等", " and more"),
    "payments_none": ("འཐུས་སྤྲོད་ཟིན་ཐོ་གང་ཡང་རྙེད་མ་བྱུང་།", "没有查到缴费记录", "No payment records found"),
    "payments_offline": ("དྲ་བ་མཐུད་མེད། གཤམ་གྱི་ཟིན་ཐོ་ནི་ {as_of} གི་ཡིན།", "网络不通，下面是截至 {as_of} 的缴费记录",
                         "Offline: payment records as of {as_of}"),
    "payments_unreachable": ("ད་ལྟ་འཐུས་སྤྲོད་ཟིན་ཐོ་འཚོལ་མི་ཐུབ། ཞབས་ཞུའི་སྒོ་ཁར་ཕེབས་ནས་དྲི་རོགས།",
                             "现在查不到缴费记录，请到窗口找工作人员查询",
                             "Payment records cannot be reached now; please ask at the counter"),
    "payments_need_card": ("འཐུས་སྤྲོད་ཟིན་ཐོ་ཐོབ་ཐང་ལག་ཁྱེར་གྱིས་འཚོལ་རོགས།", "缴费记录请用身份证查询",
                           "Payment records are looked up with the ID card"),
    # --- print a blank form -----------------------------------------------------------------
    "printer_out_of_paper": ("པར་ཆས་ལ་ཤོག་བུ་མི་འདུག", "打印机没纸了", "The printer is out of paper"),
    "printer_unavailable": ("པར་ཆས་བེད་སྤྱོད་མི་ཐུབ།", "打印机暂时不能用", "The printer is not available"),
    "job_kept": ("པར་འདེབས་ལས་འགན་ཉར་ཡོད།", "打印任务已保留", "The print job is kept"),
    # --- feedback -----------------------------------------------------------------------------
    "feedback_question": ("དེ་རིང་གི་ཞབས་ཞུ་ཇི་ལྟར་འདུག", "今天办事满意吗？", "How was it today?"),
    "rating_1": ("ཧ་ཅང་སྡུག", "很不满意", "Very bad"),
    "rating_2": ("སྡུག", "不满意", "Bad"),
    "rating_3": ("འབྲིང་།", "一般", "OK"),
    "rating_4": ("ཡག་པོ།", "满意", "Good"),
    "rating_5": ("ཧ་ཅང་ཡག", "很满意", "Very good"),
    "reason_too_slow": ("དུས་ཚོད་རིང་དྲགས།", "太慢了", "Too slow"),
    "reason_hard_to_use": ("བེད་སྤྱོད་དཀའ།", "不好用", "Hard to use"),
    "reason_cannot_read": ("ཡི་གེ་ཀློག་མ་ཐུབ།", "看不懂", "Could not read it"),
    "reason_device_problem": ("འཕྲུལ་ཆས་ལ་སྐྱོན་བྱུང་།", "机器有毛病", "Machine problem"),
    "reason_helpful": ("ཕན་ཐོགས་ཆེ།", "很方便", "Helpful"),
    "send_feedback": ("བསམ་འཆར་བསྐུར།", "提交评价", "Send"),
    "thanks": ("ཐུགས་རྗེ་ཆེ། ལམ་ཡག་པོ།", "谢谢！慢走", "Thank you! Goodbye"),
    # --- idle -----------------------------------------------------------------------------------
    "idle_warning": ("ད་དུང་བེད་སྤྱོད་བྱེད་དམ། སྐར་ཆ་ {seconds} རྗེས་སུ་གཙོ་ངོས་སུ་ལོག་ངེས།",
                     "还在用吗？{seconds} 秒后回到首页", "Still there? Going home in {seconds} s"),
    "need_more_time": ("ང་ལ་དུས་ཚོད་དགོས།", "我还需要时间", "I need more time"),
    "session_ended": ("ལས་དོན་མཇུག་བསྒྲིལ་ཟིན། གནས་ཚུལ་ཚང་མ་སུབ་ཟིན།", "已结束，您的信息已清除",
                      "Finished; your information has been cleared"),
    # --- device/service trouble ---------------------------------------------------------------
    "degraded_service": ("འཕྲུལ་ཆས་ཁ་ཤས་ལ་སྐྱོན་ཡོད། ཞབས་ཞུ་ཁ་ཤས་བེད་སྤྱོད་མི་ཐུབ།",
                         "部分设备有故障，有些事暂时不能办", "Some devices are not working; some services are limited"),
    "card_reader_unavailable": ("ལག་ཁྱེར་ཀློག་ཆས་བེད་སྤྱོད་མི་ཐུབ།", "读卡器暂时不能用", "The card reader is not available"),
    "edge_unavailable": ("ད་ལྟ་ཞབས་ཞུ་བེད་སྤྱོད་མི་ཐུབ། ཞབས་ཞུའི་སྒོ་ཁར་ཕེབས་རོགས།", "暂时无法办理，请到窗口",
                         "Not available now; please go to the counter"),
    "need_help_counter": ("རོགས་རམ་དགོས་ན་ཞབས་ཞུའི་སྒོ་ཁར་ཕེབས་རོགས།", "需要帮助请到窗口找工作人员",
                          "For help, please go to the counter"),
}


def words(entry: tuple[str, str, str], lang: str) -> str:
    """A (bo, zh, en) entry's words in `lang`; any language but bo and zh gets the English."""
    return {"bo": entry[0], "zh": entry[1]}.get(lang, entry[2])


def lookup(table: Mapping[str, tuple[str, str, str]], key: str, lang: str, /, **params: object) -> str:
    """The words for `key` of a (bo, zh, en) table in `lang`, params filled in. This catalog uses it, and
    so does any other table of words (the maintenance screens keep their own, for staff only).

    An unknown key is a programming error: say so in the log and show the key rather than crash a
    resident's session.
    """
    entry = table.get(key)
    if entry is None:
        log.error("missing i18n key", extra={"key": key})
        return key
    text = words(entry, lang)
    return text.format(**params) if params else text


def tr(key: str, lang: str, /, **params: object) -> str:
    """The words for `key` in `lang` ("bo", "zh"; anything else = English), params filled in."""
    return lookup(_CATALOG, key, lang, **params)


def has(key: str) -> bool:
    return key in _CATALOG


def catalog() -> Mapping[str, tuple[str, str, str]]:
    """A copy of the catalog, for tests and for the maintenance screen's translation review."""
    return dict(_CATALOG)


def other_language(lang: str) -> str:
    return "zh" if lang == "bo" else "bo"

