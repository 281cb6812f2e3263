# Commune: the visitor's screens, in Pashto. Machine-assisted translation: to be reviewed by a native speaker.

page-title = د ټولو لپاره کمپیوټر
skip-to-content = منځپانګې ته ورشئ
choose-language = خپله ژبه وټاکئ
change-language = ژبه بدله کړئ

## Welcome

welcome-title = ښه راغلاست
welcome-text = دا کمپیوټر ستاسو د آنلاین اداري کارونو لپاره دی: CAF، روغتیا بیمه، مالیات، د اوسېدو اجازه، کار…
welcome-free = وړیا دی.
welcome-start = پیل کړئ

## Charter (no time limit on this page)

charter-title = د کمپیوټر د کارونې منشور
charter-summary = ستاسو ناسته یوازې ستاسو ده. په پای کې هر څه پاکېږي.
charter-recorded-title = کمپیوټر څه ثبتوي
charter-recorded-1 = ستاسو د ناستې د پیل او پای وخت.
charter-recorded-2 = ایا تاسو یوازې وئ که له یو لارښود سره.
charter-recorded-3 = دا چې په پای کې هر څه په سمه توګه پاک شول.
charter-not-recorded-title = هغه څه چې کمپیوټر یې هېڅکله نه ثبتوي
charter-not-recorded-1 = ستاسو نوم.
charter-not-recorded-2 = هغه ویب پاڼې چې تاسو یې خلاصوئ.
charter-not-recorded-3 = هغه څه چې تاسو یې لیکئ.
charter-not-recorded-4 = ستاسو اسناد او پټنومونه.
charter-rules-title = قواعد
charter-rules-1 = ستاسو د ناستې وخت محدود دی.
charter-rules-2 = کمپیوټر تاسو ته د پای څخه پنځه دقیقې مخکې، او بیا یوه دقیقه مخکې خبر درکوي.
charter-rules-3 = په پای کې ستاسو اسناد پاکېږي. د ساتلو لپاره یې په USB فلش کې واچوئ یا یې چاپ کړئ.
charter-rules-3-no-usb = په پای کې ستاسو اسناد پاکېږي. د ساتلو لپاره یې چاپ کړئ.
charter-rules-4 = له خپلو حسابونو څخه وتل مه هېروئ. په پای کې پاکول هم دا کار کوي.
charter-rules-5 = نورو خلکو او وسایلو ته درناوی وکړئ.
charter-help = مرستې ته اړتیا لرئ؟ له استقبالیې پوښتنه وکړئ.
charter-no-hurry = بیړه مه کوئ: دا پاڼه د وخت محدودیت نه لري.
charter-accept = پوه شوم، ادامه ورکوم

## Free access

start-title = خپله ناسته پیل کړئ
start-length = ستاسو ناسته { $minutes } دقیقې دوام کوي.
start-until = ستاسو ناسته تر { $time } بجو پورې دوام کولی شي.
start-submit = زما ناسته پیل کړئ
ticket-text = د خپل ټکټ کوډ ولیکئ. کوډ په هغه کاغذ لیکل شوی چې په استقبالیه کې درکړل شو.
ticket-label = د ټکټ کوډ
ticket-hint = اته توري او شمېرې. د بېلګې په توګه: K7MN-3XPA
ticket-none = ټکټ نه لرئ؟ له استقبالیې یو ټکټ وغواړئ.

## Errors when opening a session

error-title = ستاسو ناسته پرانیستل نه شوه
error-ticket-invalid = دا د ټکټ کوډ نه دی. کوډ اته توري او شمېرې لري. کوډ وګورئ او بیا یې ولیکئ.
error-ticket-unknown = دا ټکټ دلته نه پېژندل کېږي. کوډ وګورئ، یا له استقبالیې پوښتنه وکړئ.
error-ticket-used = دا ټکټ مخکې کارول شوی دی. له استقبالیې نوی ټکټ وغواړئ.
error-ticket-expired = دا ټکټ نور اعتبار نه لري. له استقبالیې نوی ټکټ وغواړئ.
error-ticket-required = ټکټ ته اړتیا ده. له استقبالیې یو ټکټ وغواړئ.
error-busy = په دې کمپیوټر کې مخکې له مخکې یوه ناسته پرانیستې ده.
error-wiping = کمپیوټر مخکینۍ ناسته پاکوي. لږ وروسته بیا هڅه وکړئ.
error-closed = کمپیوټر اوس تړلی دی.
error-blocked = کمپیوټر خراب دی. له استقبالیې پوښتنه وکړئ.
error-supervised = اوس له لارښود سره د مرستې وخت دی: ستاسو لارښود به ستاسو ناسته پرانیزي.
error-pin = د لارښود دا کوډ سم نه دی.
error-too-many = ډېرې هڅې وشوې. یوه دقیقه صبر وکړئ، بیا هڅه وکړئ.
error-other = کمپیوټر ونه شو کولی چې ستاسو ناسته پرانیزي. له استقبالیې پوښتنه وکړئ.

## Supervised slot

supervised-title = له لارښود سره ناسته
supervised-text = ستاسو لارښود به ستاسو ناسته پرانیزي.
supervised-wait = مهرباني وکړئ، لږ صبر وکړئ.
supervised-permanence = د مرستې وخت: { $name }
mediator-title = د لارښود لپاره
mediator-label = د لارښود کوډ
mediator-submit = ناسته پرانیزئ

## During the session

session-title = ستاسو ناسته
session-time-left = پاتې وخت
session-ends-at = ناسته په { $time } بجو پای ته رسېږي.
session-no-limit = د وخت محدودیت نشته. ستاسو لارښود به ناسته له تاسو سره پای ته ورسوي.
session-supervised = له لارښود سره ناسته.
warning-title = پام وکړئ
warning-5 = ستاسو ناسته پنځه دقیقې وروسته پای ته رسېږي. خپل اسناد خوندي کړئ.
warning-1 = ستاسو ناسته یوه دقیقه وروسته پای ته رسېږي. ستاسو اسناد به پاک شي.
session-documents = زما اسناد وګورئ
session-end-now = زما ناسته همدا اوس پای ته ورسوئ

## End of the session

end-title = خپله ناسته پای ته ورسوئ
end-documents-title = دا اسناد به پاک شي
end-documents-none = تاسو په «Téléchargements» (ډاونلوډونه) او «Numérisations» (سکین شوي اسناد) کې هېڅ سند نه لرئ.
end-keep-title = د خپلو اسنادو د ساتلو لپاره
end-keep-usb = هغه په خپل USB فلش کې واچوئ.
end-keep-print = هغه چاپ کړئ.
end-keep-mail = یا هغه خپل ایمیل ته ولېږئ.
end-confirm = هو، پای ته یې ورسوئ او هر څه پاک کړئ
end-back = نه، زما ناستې ته بېرته ورشئ

erased-title = ستاسو ناسته پاکه شوه
erased-text = هر هغه څه چې تاسو په دې کمپیوټر کې کړي وو، پاک شول. بل کس به هېڅ ونه ویني.
erased-checked = وکتل شول: { $checks } ځله وکتل شول او هېڅ ونه موندل شو، په { $seconds } ثانیو کې.
erased-failed = د پاکولو تایید ونه شو. کمپیوټر قفل شو. استقبالیې ته خبر ورکړئ.
erased-thanks = مننه، ښه ورځ ولرئ.
erased-home = لومړۍ پاڼې ته بېرته ورشئ
wiping-title = پاکول روان دي
wiping-text = کمپیوټر ناسته پاکوي. مهرباني وکړئ، څو ثانیې صبر وکړئ.

## Closed and blocked

closed-title = کمپیوټر تړلی دی
closed-reopens-today = نن په { $time } بجو بیا پرانیستل کېږي.
closed-reopens-tomorrow = سبا په { $time } بجو بیا پرانیستل کېږي.
closed-reopens-on = د { $date } په نېټه، په { $time } بجو بیا پرانیستل کېږي.
closed-unknown = د کار وختونه په استقبالیه کې لیکل شوي دي.
closed-staff-message = د استقبالیې پیغام: { $message }
closed-ask = د هرې پوښتنې لپاره، د Maison des Habitants له استقبالیې پوښتنه وکړئ.
blocked-title = کمپیوټر خراب دی
blocked-text = دا کمپیوټر اوس نه شي کارول کېدای.
blocked-ask = له استقبالیې پوښتنه وکړئ: کېدای شي بل کمپیوټر خالي وي.

## Device guard

checked-on = دا کمپیوټر د { $date } په نېټه، په { $time } بجو د کارکوونکو لخوا وکتل شو.
alarm-title = کمپیوټر د خوندیتوب لپاره قفل شو
alarm-text = له وروستۍ کتنې وروسته، دې کمپیوټر ته یو کیبورډ یا بله وسیله نښلول شوې ده. تر هغه چې یو کارکوونکی یې ونه ګوري، هېڅوک یې نه شي کارولی.
alarm-no-password = په دې کمپیوټر کې هېڅ پټنوم یا کوډ مه لیکئ.
alarm-ask = استقبالیې یا یو لارښود ته خبر ورکړئ. کېدای شي بل کمپیوټر خالي وي.
alarm-device = موندل شوې وسیله:
alarm-staff-title = د کارکوونکو لپاره
alarm-staff-label = د لارښود کوډ، د کېبل او کیبورډ له کتلو وروسته
alarm-staff-submit = وسایل وکتل شول: قفل خلاص کړئ
error-device-alarm = دا کمپیوټر د خوندیتوب لپاره قفل دی: یوه وسیله ورسره نښلول شوې ده. استقبالیې ته خبر ورکړئ.

## Stepping away

away-title = څو دقیقې بهر ځم
away-explain = د کاغذ یا چاپ شوي شي راوړلو ته ځئ؟ خپله ناسته په داسې کوډ قفل کړئ چې تاسو یې پخپله ټاکئ. د بېرته راتګ لپاره { $minutes } دقیقې لرئ. ستاسو د ناستې وخت نه ودرېږي.
away-code-label = یو کوډ وټاکئ (له څلورو تر اتو شمېرو)
away-code-hint = په یاد یې ولرئ: خپلې ناستې ته د بېرته راتګ لپاره باید دا ولیکئ.
away-again-label = همدا کوډ یو ځل بیا ولیکئ
away-submit = زما ناسته قفل کړئ
away-locked-title = ناسته قفل ده
away-locked-text = هغه کس چې دا کمپیوټر کاروي، د څو دقیقو لپاره تللی دی. د هغه ناسته قفل ده.
away-time-left = د بېرته راتګ وخت
away-until = له { $time } بجو مخکې بېرته راشئ.
away-erased-after = که هغه کس په وخت بېرته رانه شي، یا له پنځو غلطو کوډونو وروسته، ناسته پای ته رسېږي او هر څه پاکېږي.
away-back-label = ستاسو کوډ
away-back-submit = زما ناستې ته بېرته ورشئ
away-tries-left = پاتې هڅې: { $tries }.
away-error-wrong = دا کوډ سم نه دی.
away-error-mismatch = دواړه کوډونه سره توپیر لري. همدا یو کوډ دوه ځله ولیکئ.
away-error-code = داسې کوډ وټاکئ چې له څلورو تر اتو شمېرو ولري.
away-error-off = په دې کمپیوټر کې ناسته نه شي قفل کېدای.
away-error-late = ستاسو ناسته له یوې دقیقې په کم وخت کې پای ته رسېږي: نور نو قفل کېدای نه شي.
away-error-lock = دا کمپیوټر خپله پرده نشي قفلولی: ستاسو ناسته قفل نه شوه. کمپیوټر ته نږدې پاتې شئ یا خپله ناسته پای ته ورسوئ.

## USB sticks

usb-refused = په دې مرکز کې په کمپیوټرونو د USB فلش اجازه نشته: ستاسو فلش جلا شو او هیڅ شی ترې ونه لوستل شو. د خپلو اسنادو ساتلو لپاره، چاپ یې کړئ یا له پذیرش څخه پوښتنه وکړئ.

## د لارښود غوښتنه

help-call = لارښود وغواړئ
help-title = لارښود وغواړئ
help-text = یو لارښود کولای شي راشي او ستاسو مرسته وکړي.
help-private = کمپیوټر یوازې ستاسو انتخاب لېږي. هېڅکله ستاسو پرده یا هغه څه چې تاسو یې لیکئ نه لېږي.
help-choose = په څه شي کې مرستې ته اړتیا لرئ؟
help-need-printing = چاپ یا سکن
help-need-account = یو حساب یا پټنوم
help-need-form = یو فورمه
help-need-other = بل څه
help-sent-title = ستاسو غوښتنه ولېږل شوه
help-sent-text = په خپل ځای کې پاتې شئ. یو لارښود به ستاسو غوښتنه وویني.
help-taken-title = یو لارښود راځي
help-taken-text = یو لارښود ستاسو غوښتنه ومنله او ستاسو مرستې ته راځي.
help-your-need = ستاسو غوښتنه:
help-cancel = زما غوښتنه لغوه کړئ
help-back = زما ناستې ته بېرته ورشئ
help-error-too-soon = تاسو همدا اوس غوښتنه وکړه. ۳۰ ثانیې صبر وکړئ، بیا هڅه وکړئ.
help-error-too-many = تاسو څو ځله غوښتنه کړې ده. له استقبالیې پوښتنه وکړئ.
help-error-other = غوښتنه ونه لېږل شوه. له استقبالیې پوښتنه وکړئ.

## The wait

wait-title = ایا د کمپیوټر انتظار کوئ؟
wait-free = اوس خالي کمپیوټرونه: { $count }. له پذیرش څخه پوښتنه وکړئ.
wait-all-busy = اوس ټول کمپیوټرونه بوخت دي.
wait-next = راتلونکی کمپیوټر به شاید د { $time } په شاوخوا کې خالي شي.
wait-reserved = د یوې مرستې ناستې لپاره ساتل شوي:
wait-reserved-until = { $permanence }، تر { $time } پورې

## Closing time

closing-title = مرکز ډېر ژر بندېږي
closing-at = د بندېدو وخت { $time }: ناستې په هغه وخت پای ته رسېږي. خپل اسناد مخکې خوندي کړئ.

## Send to my phone

phone-send = زما ټیلیفون ته یې ولېږه
phone-offline = اوس ټیلیفون ته لېږل ممکن نه دي (شبکه). له کارکوونکو وپوښتئ.
phone-sent-title = ستاسو ټیلیفون ته ولېږل شول
phone-until = لینک تر { $time } پورې اعتبار لري
phone-show-again = وروستی کوډ بیا وښایه
end-keep-phone = خپل ټیلیفون ته یې ولېږئ: د سکن لپاره یو کوډ، پرته له حساب او پټنوم.
phone-title = ستاسو سند ستاسو په ټیلیفون کې
phone-qr-label = ستاسو د سند د لینک QR کوډ
phone-scan = دا کوډ د خپل ټیلیفون په کمره سکن کړئ: سند د هغه په براوزر کې پرانیستل کېږي.
phone-link-label = یا دا پته د خپل ټیلیفون په براوزر کې ولیکئ:
phone-once = لینک یوازې یو ځل کار کوي، تر { $time } پورې.
phone-private = سند له وتلو مخکې په همدې کمپیوټر کې کوډ کېږي: د ښار سرور یې نشي لوستلای. کیلي یوازې په دې کوډ کې ده.
phone-still-erased = سند ستاسو د ناستې تر پایه پورې په دې کمپیوټر کې هم پاتې کېږي، بیا پاکېږي.
phone-back = خپلو سندونو ته بېرته
phone-error-off = دا مرکز ټیلیفونونو ته سندونه نه لېږي. چاپ یې کړئ یا له کارکوونکو وپوښتئ.
phone-error-document = دا سند نور دلته نشته. لست ته بیا وګورئ.
phone-error-large = دا سند د ټیلیفون لپاره ډېر لوی دی (تر ۳۲ میګابایټه). چاپ یې کړئ یا له کارکوونکو وپوښتئ.
phone-error-busy = بل سند د لېږلو په حال کې دی. یو څه وروسته بیا هڅه وکړئ.
phone-error-refused = سرور ونشو کولای سند وساتي. څو دقیقې وروسته بیا هڅه وکړئ یا له کارکوونکو وپوښتئ.

## Copy to my USB stick

usb-copy-title = زما USB فلش ته کاپي کړه
usb-copy-explain = خپله فلش ولګوئ، سندونه په نښه کړئ، بیا تڼۍ ووهئ. کمپیوټر هغه څه نه لولي چې مخکې ستاسو په فلش کې دي.
usb-copy-choose = د کاپي سندونه
usb-copy-submit = زما USB فلش ته کاپي کړه
usb-done-title = سندونه کاپي شول
usb-done-count = { $count ->
    [one] ۱ سند ستاسو USB فلش ته کاپي شو.
   *[other] { $count } سندونه ستاسو USB فلش ته کاپي شول.
}
usb-done-remove = اوس خپله فلش ایستلای شئ.
usb-none-chosen = لږ تر لږه یو سند په نښه کړئ.
usb-no-stick = هیڅ USB فلش نه ده لګېدلې. ویې لګوئ، څو ثانیې انتظار وکړئ، بیا هڅه وکړئ.
usb-format = دا فلش پرانیستل نشوه (ناپېژندل شوې بڼه). له کارکوونکو وپوښتئ.
usb-no-space = ستاسو په فلش کې د دې سندونو لپاره بسنه ځای نشته.
usb-failed = کاپي ونشوه. فلش وباسئ، بیا یې ولګوئ او هڅه وکړئ، یا له کارکوونکو وپوښتئ.

## Printing knowingly

print-title = ستاسو چاپونه
print-held = تر څو چې تاسو موافقه ونه کړئ، له چاپګر څخه هېڅ نه راوځي.
print-job = چاپ شمېره { $job }
print-pages = د پاڼو شمېر: { $pages }
print-uncounted = د پاڼو شمېر ونه شمېرل شو.
print-left = پاتې وړیا پاڼې: { $pages }
print-confirm = چاپ یې کړئ
print-cancel = دا چاپ لغوه کړئ
print-beyond = دا ستاسو له وړیا پاڼو ډېر دی. د کارکوونکو یو غړی یې پیلولی شي: له پذیرش څخه وپوښتئ.
print-staff = د کارکوونکو یو غړی یې پیلولی شي: له پذیرش څخه وپوښتئ.
print-error-staff = دا چاپ د کارکوونکو یو غړي ته انتظار باسي.
print-error-gone = دا چاپ نور په انتظار کې نه دی.
print-error-failed = چاپګر ځواب ورنه کړ. بیا هڅه وکړئ یا له پذیرش څخه وپوښتئ.
