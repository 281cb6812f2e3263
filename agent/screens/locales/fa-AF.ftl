# Commune: the visitor's screens, in Dari. Machine-assisted translation: to be reviewed by a native speaker.

page-title = کمپیوتر برای استفاده همگانی
skip-to-content = رفتن به محتوا
choose-language = زبان خود را انتخاب کنید
change-language = تغییر زبان

## Welcome

welcome-title = خوش آمدید
welcome-text = این کمپیوتر برای کارهای اداری آنلاین شماست: CAF، بیمه صحی، مالیات، اجازه اقامت، کار…
welcome-free = استفاده از آن رایگان است.
welcome-start = شروع

## Charter (no time limit on this page)

charter-title = منشور استفاده از کمپیوتر
charter-summary = جلسه شما فقط از خود شماست. در آخر، همه چیز پاک می‌شود.
charter-recorded-title = آنچه کمپیوتر ثبت می‌کند
charter-recorded-1 = ساعت شروع و ختم جلسه شما.
charter-recorded-2 = اینکه تنها بودید یا با یک رهنما.
charter-recorded-3 = اینکه در آخر همه چیز درست پاک شده است.
charter-not-recorded-title = آنچه کمپیوتر هرگز ثبت نمی‌کند
charter-not-recorded-1 = نام شما.
charter-not-recorded-2 = ویب‌سایت‌هایی که باز می‌کنید.
charter-not-recorded-3 = آنچه تایپ می‌کنید.
charter-not-recorded-4 = اسناد و رمزهای شما.
charter-rules-title = قواعد
charter-rules-1 = وقت جلسه شما محدود است.
charter-rules-2 = کمپیوتر پنج دقیقه پیش از ختم، و بعد یک دقیقه پیش از ختم به شما خبر می‌دهد.
charter-rules-3 = در آخر، اسناد شما پاک می‌شوند. برای نگه داشتن آن‌ها، آن‌ها را در فلش USB بگذارید یا چاپ کنید.
charter-rules-3-no-usb = در آخر، اسناد شما پاک می‌شوند. برای نگه داشتن آن‌ها، آن‌ها را چاپ کنید.
charter-rules-4 = یادتان باشد که از حساب‌های خود خارج شوید. پاک‌کاری آخر هم این کار را می‌کند.
charter-rules-5 = به دیگران و به وسایل احترام بگذارید.
charter-help = کمک لازم دارید؟ از پذیرش بپرسید.
charter-no-hurry = عجله نکنید: این صفحه محدودیت وقت ندارد.
charter-accept = فهمیدم، ادامه می‌دهم

## Free access

start-title = شروع جلسه شما
start-length = جلسه شما { $minutes } دقیقه طول می‌کشد.
start-until = جلسه شما می‌تواند تا ساعت { $time } ادامه داشته باشد.
start-submit = شروع جلسه من
ticket-text = کود تکت خود را تایپ کنید. کود روی کاغذی است که در پذیرش به شما دادند.
ticket-label = کود تکت
ticket-hint = هشت حرف و عدد. مثلاً: K7MN-3XPA
ticket-none = تکت ندارید؟ از پذیرش یک تکت بخواهید.

## Errors when opening a session

error-title = جلسه شما باز نشد
error-ticket-invalid = این کود، کود تکت نیست. کود هشت حرف و عدد دارد. آن را بررسی کنید و دوباره تایپ کنید.
error-ticket-unknown = این تکت اینجا شناخته نمی‌شود. کود را بررسی کنید، یا از پذیرش بپرسید.
error-ticket-used = این تکت قبلاً استفاده شده است. از پذیرش یک تکت نو بخواهید.
error-ticket-expired = این تکت دیگر اعتبار ندارد. از پذیرش یک تکت نو بخواهید.
error-ticket-required = تکت لازم است. از پذیرش یک تکت بخواهید.
error-busy = در این کمپیوتر از قبل یک جلسه باز است.
error-wiping = کمپیوتر جلسه قبلی را پاک می‌کند. کمی بعد دوباره کوشش کنید.
error-closed = کمپیوتر فعلاً بسته است.
error-blocked = کمپیوتر خراب است. از پذیرش بپرسید.
error-supervised = حالا وقت کمک با رهنما است: رهنمای شما جلسه شما را باز می‌کند.
error-pin = این کود رهنما درست نیست.
error-too-many = کوشش‌های زیاد. یک دقیقه صبر کنید، بعد دوباره کوشش کنید.
error-other = کمپیوتر نتوانست جلسه شما را باز کند. از پذیرش بپرسید.

## Supervised slot

supervised-title = جلسه با رهنما
supervised-text = رهنمای شما جلسه شما را باز می‌کند.
supervised-wait = لطفاً کمی صبر کنید.
supervised-permanence = وقت کمک: { $name }
mediator-title = برای رهنما
mediator-label = کود رهنما
mediator-submit = باز کردن جلسه

## During the session

session-title = جلسه شما
session-time-left = وقت باقی‌مانده
session-ends-at = جلسه ساعت { $time } ختم می‌شود.
session-no-limit = محدودیت وقت نیست. رهنمای شما جلسه را همراه شما ختم می‌کند.
session-supervised = جلسه همراه با رهنما.
warning-title = توجه
warning-5 = جلسه شما پنج دقیقه بعد ختم می‌شود. اسناد خود را ذخیره کنید.
warning-1 = جلسه شما یک دقیقه بعد ختم می‌شود. اسناد شما پاک می‌شوند.
session-documents = دیدن اسناد من
session-end-now = ختم جلسه من همین حالا

## End of the session

end-title = ختم جلسه شما
end-documents-title = این اسناد پاک می‌شوند
end-documents-none = شما هیچ سندی در «Téléchargements» (دانلودها) و «Numérisations» (اسکن‌ها) ندارید.
end-keep-title = برای نگه داشتن اسناد خود
end-keep-usb = آن‌ها را در فلش USB خود بگذارید.
end-keep-print = آن‌ها را چاپ کنید.
end-keep-mail = یا آن‌ها را به ایمیل خود بفرستید.
end-confirm = بلی، ختم کن و همه چیز را پاک کن
end-back = نه، برگشت به جلسه من

erased-title = جلسه شما پاک شد
erased-text = هر کاری که در این کمپیوتر کردید پاک شد. نفر بعدی هیچ چیزی نمی‌بیند.
erased-checked = بررسی شد: { $checks } بار کنترول شد و هیچ چیزی پیدا نشد، در { $seconds } ثانیه.
erased-failed = پاک‌کاری بررسی نشد. کمپیوتر قفل شده است. به پذیرش خبر بدهید.
erased-thanks = تشکر، روز خوبی داشته باشید.
erased-home = برگشت به صفحه اول
wiping-title = در حال پاک‌کاری
wiping-text = کمپیوتر جلسه را پاک می‌کند. لطفاً چند ثانیه صبر کنید.

## Closed and blocked

closed-title = کمپیوتر بسته است
closed-reopens-today = امروز ساعت { $time } دوباره باز می‌شود.
closed-reopens-tomorrow = فردا ساعت { $time } دوباره باز می‌شود.
closed-reopens-on = به تاریخ { $date } ساعت { $time } دوباره باز می‌شود.
closed-unknown = ساعات کار در پذیرش نوشته شده است.
closed-staff-message = پیام پذیرش: { $message }
closed-ask = برای هر سوال، از پذیرش Maison des Habitants بپرسید.
blocked-title = کمپیوتر خراب است
blocked-text = فعلاً نمی‌توان از این کمپیوتر استفاده کرد.
blocked-ask = از پذیرش بپرسید: شاید یک کمپیوتر دیگر خالی باشد.

## Device guard

checked-on = این کمپیوتر به تاریخ { $date } ساعت { $time } توسط کارمندان بررسی شد.
alarm-title = کمپیوتر برای امنیت قفل شد
alarm-text = بعد از بررسی آخر، یک کیبورد یا دستگاه دیگر به این کمپیوتر وصل شده است. تا وقتی که یکی از کارمندان آن را بررسی نکند، هیچ کس نمی‌تواند از آن استفاده کند.
alarm-no-password = در این کمپیوتر هیچ رمز یا کودی تایپ نکنید.
alarm-ask = به پذیرش یا به یک رهنما خبر بدهید. شاید یک کمپیوتر دیگر خالی باشد.
alarm-device = دستگاه پیدا شده:
alarm-staff-title = برای کارمندان
alarm-staff-label = کود رهنما، بعد از بررسی کیبل و کیبورد
alarm-staff-submit = دستگاه‌ها بررسی شد: باز کردن قفل
error-device-alarm = این کمپیوتر برای امنیت قفل شده است: یک دستگاه به آن وصل شد. به پذیرش خبر بدهید.

## Stepping away

away-title = چند دقیقه بیرون می‌روم
away-explain = می‌روید یک کاغذ یا چاپ را بگیرید؟ جلسه خود را با کودی که خودتان انتخاب می‌کنید قفل کنید. برای برگشتن { $minutes } دقیقه وقت دارید. وقت جلسه شما همچنان می‌گذرد.
away-code-label = یک کود انتخاب کنید (چهار تا هشت عدد)
away-code-hint = آن را به یاد داشته باشید: برای برگشت به جلسه خود باید آن را تایپ کنید.
away-again-label = همان کود را یک بار دیگر تایپ کنید
away-submit = قفل کردن جلسه من
away-locked-title = جلسه قفل است
away-locked-text = کسی که از این کمپیوتر استفاده می‌کند برای چند دقیقه بیرون رفته است. جلسه او قفل است.
away-time-left = وقت برای برگشتن
away-until = پیش از ساعت { $time } برگردید.
away-erased-after = اگر آن شخص به وقت برنگردد، یا بعد از پنج کود غلط، جلسه ختم می‌شود و همه چیز پاک می‌شود.
away-back-label = کود شما
away-back-submit = برگشت به جلسه من
away-tries-left = کوشش‌های باقی‌مانده: { $tries }.
away-error-wrong = این کود درست نیست.
away-error-mismatch = دو کود با هم فرق دارند. همان کود را دو بار تایپ کنید.
away-error-code = کودی با چهار تا هشت عدد انتخاب کنید.
away-error-off = این کمپیوتر اجازه قفل کردن جلسه را نمی‌دهد.
away-error-late = جلسه شما کمتر از یک دقیقه بعد ختم می‌شود: دیگر نمی‌توان آن را قفل کرد.
away-error-lock = این کمپیوتر نمی‌تواند صفحه را قفل کند: جلسه شما قفل نشد. نزدیک کمپیوتر بمانید یا جلسه خود را تمام کنید.

## USB sticks

usb-refused = فلش USB در کمپیوترهای این مرکز اجازه نیست: فلش شما قطع شد و هیچ چیزی از آن خوانده نشد. برای نگه داشتن اسناد خود، آن‌ها را چاپ کنید یا از پذیرش بپرسید.

## خواستن رهنما

help-call = خواستن رهنما
help-title = خواستن رهنما
help-text = یک رهنما می‌تواند بیاید و به شما کمک کند.
help-private = کمپیوتر فقط انتخاب شما را می‌فرستد. هرگز صفحه شما یا آنچه تایپ می‌کنید را نمی‌فرستد.
help-choose = برای چه چیزی کمک لازم دارید؟
help-need-printing = چاپ یا اسکن
help-need-account = یک حساب یا رمز
help-need-form = یک فورم
help-need-other = چیز دیگر
help-sent-title = درخواست شما فرستاده شد
help-sent-text = در جای خود بمانید. یک رهنما درخواست شما را می‌بیند.
help-taken-title = یک رهنما می‌آید
help-taken-text = یک رهنما درخواست شما را گرفت و برای کمک به شما می‌آید.
help-your-need = درخواست شما:
help-cancel = لغو درخواست من
help-back = برگشت به جلسه من
help-error-too-soon = شما همین حالا درخواست کردید. ۳۰ ثانیه صبر کنید، بعد دوباره کوشش کنید.
help-error-too-many = شما چند بار درخواست کرده‌اید. از پذیرش بپرسید.
help-error-other = درخواست فرستاده نشد. از پذیرش بپرسید.

## The wait

wait-title = منتظر کمپیوتر هستید؟
wait-free = کمپیوترهای آزاد در همین لحظه: { $count }. از پذیرش بپرسید.
wait-all-busy = در همین لحظه همه کمپیوترها مصروف هستند.
wait-next = کمپیوتر بعدی احتمالاً حدود ساعت { $time } آزاد می‌شود.
wait-reserved = برای یک جلسه همراهی رزرو شده:
wait-reserved-until = { $permanence }، تا ساعت { $time }

## Closing time

closing-title = مرکز به زودی بسته می‌شود
closing-at = بسته شدن ساعت { $time }: جلسه‌ها در همان ساعت تمام می‌شوند. اسناد خود را قبل از آن ذخیره کنید.

## Send to my phone

phone-send = به تیلفونم بفرست
phone-offline = فرستادن به تیلفون فعلاً ممکن نیست (شبکه). از کارمندان بپرسید.
phone-sent-title = به تیلفون شما فرستاده شد
phone-until = لینک تا { $time } اعتبار دارد
phone-show-again = آخرین کود را دوباره نشان بده
end-keep-phone = آن‌ها را به تیلفون خود بفرستید: یک کود برای اسکن، بدون حساب و رمز.
phone-title = سند شما در تیلفون شما
phone-qr-label = کود QR لینک سند شما
phone-scan = این کود را با کمرهٔ تیلفون خود اسکن کنید: سند در مرورگر آن باز می‌شود.
phone-link-label = یا این آدرس را در مرورگر تیلفون خود بنویسید:
phone-once = لینک فقط یک بار کار می‌کند، تا { $time }.
phone-private = سند پیش از بیرون رفتن در همین کمپیوتر رمزگذاری می‌شود: سرور شهر نمی‌تواند آن را بخواند. کلید فقط در همین کود است.
phone-still-erased = سند تا پایان جلسهٔ شما در این کمپیوتر هم می‌ماند، سپس پاک می‌شود.
phone-back = بازگشت به سندهایم
phone-error-off = این مرکز سند را به تیلفون نمی‌فرستد. آن‌ها را چاپ کنید یا از کارمندان بپرسید.
phone-error-document = این سند دیگر اینجا نیست. دوباره به فهرست نگاه کنید.
phone-error-large = این سند برای تیلفون خیلی بزرگ است (حداکثر ۳۲ مگابایت). آن را چاپ کنید یا از کارمندان بپرسید.
phone-error-busy = سند دیگری در حال فرستادن است. چند لحظه بعد دوباره کوشش کنید.
phone-error-refused = سرور نتوانست سند را نگه دارد. چند دقیقه بعد دوباره کوشش کنید یا از کارمندان بپرسید.

## Copy to my USB stick

usb-copy-title = کاپی به فلش USB من
usb-copy-explain = فلش خود را وصل کنید، سندها را نشانی کنید، سپس دکمه را بزنید. کمپیوتر آنچه را که در فلش شما است نمی‌خواند.
usb-copy-choose = سندهای کاپی شونده
usb-copy-submit = کاپی به فلش USB من
usb-done-title = سندها کاپی شد
usb-done-count = { $count ->
    [one] ۱ سند به فلش USB شما کاپی شد.
   *[other] { $count } سند به فلش USB شما کاپی شد.
}
usb-done-remove = می‌توانید فلش خود را بکشید.
usb-none-chosen = دست‌کم یک سند را نشانی کنید.
usb-no-stick = هیچ فلش USB وصل نیست. آن را وصل کنید، چند ثانیه صبر کنید، سپس دوباره کوشش کنید.
usb-format = این فلش باز نشد (فارمت ناشناخته). از کارمندان بپرسید.
usb-no-space = در فلش شما برای این سندها جای کافی نیست.
usb-failed = کاپی نشد. فلش را بکشید، دوباره وصل کنید و کوشش کنید، یا از کارمندان بپرسید.

## Printing knowingly

print-title = چاپ‌های شما
print-held = تا موافقت شما، هیچ چیزی از چاپگر بیرون نمی‌آید.
print-job = چاپ شماره { $job }
print-pages = تعداد صفحه‌ها: { $pages }
print-uncounted = تعداد صفحه‌ها شمرده نشد.
print-left = صفحه‌های رایگان باقی‌مانده: { $pages }
print-confirm = چاپ کن
print-cancel = این چاپ را لغو کن
print-beyond = این بیشتر از صفحه‌های رایگان شماست. یکی از کارمندان می‌تواند آن را چاپ کند: از پذیرش بپرسید.
print-staff = یکی از کارمندان می‌تواند آن را چاپ کند: از پذیرش بپرسید.
print-error-staff = این چاپ منتظر یکی از کارمندان است.
print-error-gone = این چاپ دیگر در انتظار نیست.
print-error-failed = چاپگر پاسخ نداد. دوباره امتحان کنید یا از پذیرش بپرسید.
