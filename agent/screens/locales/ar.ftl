# Commune: the visitor's screens, in Arabic. Machine-assisted translation: to be reviewed by a native speaker.

page-title = حاسوب متاح للجميع
skip-to-content = الانتقال إلى المحتوى
choose-language = اختر لغتك
change-language = تغيير اللغة

## Welcome

welcome-title = مرحبًا بك
welcome-text = هذا الحاسوب لإجراءاتك الإدارية عبر الإنترنت: CAF، التأمين الصحي، الضرائب، بطاقة الإقامة، العمل…
welcome-free = الاستخدام مجاني.
welcome-start = ابدأ

## Charter (no time limit on this page)

charter-title = ميثاق استخدام الحاسوب
charter-summary = جلستك لك وحدك. في النهاية، يُمسح كل شيء.
charter-recorded-title = ما يسجله الحاسوب
charter-recorded-1 = وقت بداية جلستك ووقت نهايتها.
charter-recorded-2 = هل كنت وحدك أو مع مساعد.
charter-recorded-3 = أن كل شيء قد مُسح جيدًا في النهاية.
charter-not-recorded-title = ما لا يسجله الحاسوب أبدًا
charter-not-recorded-1 = اسمك.
charter-not-recorded-2 = المواقع التي تزورها.
charter-not-recorded-3 = ما تكتبه.
charter-not-recorded-4 = مستنداتك وكلمات المرور الخاصة بك.
charter-rules-title = القواعد
charter-rules-1 = مدة جلستك محدودة.
charter-rules-2 = ينبهك الحاسوب قبل النهاية بخمس دقائق، ثم قبلها بدقيقة واحدة.
charter-rules-3 = في النهاية، تُمسح مستنداتك. لحفظها، ضعها على ذاكرة USB أو اطبعها.
charter-rules-3-no-usb = في النهاية، تُمسح مستنداتك. لحفظها، اطبعها.
charter-rules-4 = تذكر أن تسجل الخروج من حساباتك. المسح في النهاية يفعل ذلك أيضًا.
charter-rules-5 = احترم الآخرين واحترم الأجهزة.
charter-help = هل تحتاج إلى مساعدة؟ اسأل في مكتب الاستقبال.
charter-no-hurry = خذ وقتك: لا يوجد حد للوقت في هذه الصفحة.
charter-accept = فهمت، أريد المتابعة

## Free access

start-title = ابدأ جلستك
start-length = مدة جلستك: { $minutes } دقيقة.
start-until = يمكن أن تستمر جلستك حتى الساعة { $time }.
start-submit = ابدأ جلستي
ticket-text = اكتب رمز تذكرتك. الرمز مكتوب على الورقة التي أخذتها من مكتب الاستقبال.
ticket-label = رمز التذكرة
ticket-hint = 8 حروف وأرقام. مثال: K7MN-3XPA
ticket-none = ليس لديك تذكرة؟ اطلب واحدة من مكتب الاستقبال.

## Errors when opening a session

error-title = لم تبدأ جلستك
error-ticket-invalid = هذا ليس رمز تذكرة. في الرمز 8 حروف وأرقام. تحقق منه واكتبه مرة أخرى.
error-ticket-unknown = هذه التذكرة غير معروفة هنا. تحقق من الرمز، أو اسأل في مكتب الاستقبال.
error-ticket-used = هذه التذكرة استُخدمت من قبل. اطلب تذكرة جديدة من مكتب الاستقبال.
error-ticket-expired = هذه التذكرة لم تعد صالحة. اطلب تذكرة جديدة من مكتب الاستقبال.
error-ticket-required = تحتاج إلى تذكرة. اطلب واحدة من مكتب الاستقبال.
error-busy = هناك جلسة مفتوحة من قبل على هذا الحاسوب.
error-wiping = الحاسوب يمسح الجلسة السابقة. حاول مرة أخرى بعد قليل.
error-closed = الحاسوب مغلق الآن.
error-blocked = الحاسوب معطل. اسأل في مكتب الاستقبال.
error-supervised = هذا وقت المساعدة مع مساعد: مساعدك سيفتح جلستك.
error-pin = رمز المساعد هذا غير صحيح.
error-too-many = محاولات كثيرة جدًا. انتظر دقيقة، ثم حاول مرة أخرى.
error-other = لم يستطع الحاسوب فتح جلستك. اسأل في مكتب الاستقبال.

## Supervised slot

supervised-title = جلسة مع مساعد
supervised-text = مساعدك سيفتح جلستك.
supervised-wait = من فضلك، انتظر قليلًا.
supervised-permanence = وقت المساعدة: { $name }
mediator-title = للمساعد
mediator-label = رمز المساعد
mediator-submit = افتح الجلسة

## During the session

session-title = جلستك
session-time-left = الوقت المتبقي
session-ends-at = تنتهي الجلسة في الساعة { $time }.
session-no-limit = لا يوجد حد للوقت. مساعدك سينهي الجلسة معك.
session-supervised = جلسة مع مساعد.
warning-title = انتبه
warning-5 = تنتهي جلستك بعد 5 دقائق. احفظ مستنداتك.
warning-1 = تنتهي جلستك بعد دقيقة واحدة. ستُمسح مستنداتك.
session-documents = عرض مستنداتي
session-end-now = إنهاء جلستي الآن

## End of the session

end-title = إنهاء جلستك
end-documents-title = هذه المستندات ستُمسح
end-documents-none = ليس لديك أي مستند في «Téléchargements» (التنزيلات) ولا في «Numérisations» (المستندات الممسوحة ضوئيًا).
end-keep-title = لحفظ مستنداتك
end-keep-usb = ضعها على ذاكرة USB الخاصة بك.
end-keep-print = اطبعها.
end-keep-mail = أو أرسلها إلى بريدك الإلكتروني.
end-confirm = نعم، إنهاء الجلسة ومسح كل شيء
end-back = لا، العودة إلى جلستي

erased-title = تم مسح جلستك
erased-text = كل ما فعلته على هذا الحاسوب تم مسحه. الشخص التالي لن يرى أي شيء.
erased-checked = تم التحقق. عدد الفحوص: { $checks }. لم نجد أي شيء. المدة بالثواني: { $seconds }.
erased-failed = لم نستطع التحقق من المسح. الحاسوب مقفل. أخبر مكتب الاستقبال.
erased-thanks = شكرًا لك، ونتمنى لك يومًا سعيدًا.
erased-home = العودة إلى الصفحة الرئيسية
wiping-title = جارٍ المسح
wiping-text = الحاسوب يمسح الجلسة. من فضلك، انتظر بضع ثوانٍ.

## Closed and blocked

closed-title = الحاسوب مغلق
closed-reopens-today = يفتح من جديد اليوم في الساعة { $time }.
closed-reopens-tomorrow = يفتح من جديد غدًا في الساعة { $time }.
closed-reopens-on = يفتح من جديد يوم { $date } في الساعة { $time }.
closed-unknown = أوقات الفتح معروضة في مكتب الاستقبال.
closed-staff-message = رسالة من مكتب الاستقبال: { $message }
closed-ask = لأي سؤال، اسأل في مكتب الاستقبال في Maison des Habitants.
blocked-title = الحاسوب معطل
blocked-text = لا يمكن استخدام هذا الحاسوب الآن.
blocked-ask = اسأل في مكتب الاستقبال: ربما يوجد حاسوب آخر متاح.

## Device guard

checked-on = فحص فريق العمل هذا الحاسوب يوم { $date } في الساعة { $time }.
alarm-title = الحاسوب مقفل من أجل الأمان
alarm-text = تم توصيل لوحة مفاتيح أو جهاز آخر بهذا الحاسوب بعد آخر فحص. لا يمكن لأحد استخدامه قبل أن يفحصه أحد أعضاء فريق العمل.
alarm-no-password = لا تكتب أي كلمة مرور ولا أي رمز على هذا الحاسوب.
alarm-ask = أخبر مكتب الاستقبال أو مساعدًا. ربما يوجد حاسوب آخر متاح.
alarm-device = الجهاز الذي تم اكتشافه:
alarm-staff-title = لفريق العمل
alarm-staff-label = رمز المساعد، بعد فحص الكابل ولوحة المفاتيح
alarm-staff-submit = تم فحص الأجهزة: فتح القفل
error-device-alarm = هذا الحاسوب مقفل من أجل الأمان: تم توصيل جهاز به. أخبر مكتب الاستقبال.

## Stepping away

away-title = الابتعاد لبضع دقائق
away-explain = هل ستذهب لإحضار ورقة أو شيء مطبوع؟ أقفل جلستك برمز تختاره أنت. مدة العودة: { $minutes } دقيقة. وقت جلستك لا يتوقف.
away-code-label = اختر رمزًا (من 4 إلى 8 أرقام)
away-code-hint = تذكّره: ستحتاج إلى كتابته لتعود إلى جلستك.
away-again-label = اكتب الرمز نفسه مرة أخرى
away-submit = أقفل جلستي
away-locked-title = الجلسة مقفلة
away-locked-text = الشخص الذي يستخدم هذا الحاسوب ابتعد لبضع دقائق. جلسته مقفلة.
away-time-left = الوقت المتبقي للعودة
away-until = عُد قبل الساعة { $time }.
away-erased-after = إذا لم يعد الشخص في الوقت المحدد، أو بعد 5 رموز خاطئة، تنتهي الجلسة ويُمسح كل شيء.
away-back-label = رمزك
away-back-submit = العودة إلى جلستي
away-tries-left = المحاولات المتبقية: { $tries }.
away-error-wrong = هذا الرمز غير صحيح.
away-error-mismatch = الرمزان مختلفان. اكتب الرمز نفسه مرتين.
away-error-code = اختر رمزًا من 4 إلى 8 أرقام.
away-error-off = هذا الحاسوب لا يسمح بقفل الجلسة.
away-error-late = تنتهي جلستك بعد أقل من دقيقة: لم يعد من الممكن قفلها.
away-error-lock = لا يستطيع هذا الحاسوب قفل شاشته: لم تُقفل جلستك. ابقَ قرب الحاسوب أو أنهِ جلستك.

## USB sticks

usb-refused = مفاتيح USB غير مسموح بها على حواسيب هذا المركز: تم فصل مفتاحك ولم تتم قراءة أي شيء منه. للاحتفاظ بمستنداتك، اطبعها أو اسأل مكتب الاستقبال.

## طلب مساعد

help-call = اطلب مساعدًا
help-title = اطلب مساعدًا
help-text = يمكن لمساعد أن يأتي ليساعدك.
help-private = يرسل الحاسوب اختيارك فقط. لا يرسل أبدًا شاشتك ولا ما تكتبه.
help-choose = في أي شيء تحتاج إلى مساعدة؟
help-need-printing = الطباعة أو المسح الضوئي
help-need-account = حساب أو كلمة مرور
help-need-form = استمارة
help-need-other = شيء آخر
help-sent-title = تم إرسال طلبك
help-sent-text = ابقَ في مكانك. سيرى مساعد طلبك.
help-taken-title = مساعد في الطريق إليك
help-taken-text = استلم مساعد طلبك وهو قادم لمساعدتك.
help-your-need = طلبك:
help-cancel = إلغاء طلبي
help-back = العودة إلى جلستي
help-error-too-soon = لقد طلبت المساعدة للتو. انتظر 30 ثانية، ثم حاول مرة أخرى.
help-error-too-many = لقد طلبت المساعدة عدة مرات. اسأل في مكتب الاستقبال.
help-error-other = لم يُرسَل الطلب. اسأل في مكتب الاستقبال.

## The wait

wait-title = هل تنتظر حاسوبًا؟
wait-free = الحواسيب المتاحة الآن: { $count }. اسأل مكتب الاستقبال.
wait-all-busy = كل الحواسيب مشغولة الآن.
wait-next = من المتوقع أن يتحرر الحاسوب التالي حوالي الساعة { $time }.
wait-reserved = محجوزة لوقت المساعدة:
wait-reserved-until = { $permanence }، حتى الساعة { $time }

## Closing time

closing-title = يغلق المركز قريبًا
closing-at = الإغلاق في الساعة { $time }: تنتهي الجلسات في ذلك الوقت. احفظ مستنداتك قبل ذلك.

## Send to my phone

phone-send = أرسله إلى هاتفي
phone-offline = الإرسال إلى الهاتف غير ممكن الآن (الشبكة). اسأل الفريق.
phone-sent-title = أُرسلت إلى هاتفك
phone-until = الرابط صالح حتى { $time }
phone-show-again = اعرض آخر رمز مرة أخرى
end-keep-phone = أرسلها إلى هاتفك: رمز تمسحه، بدون حساب ولا كلمة مرور.
phone-title = مستندك على هاتفك
phone-qr-label = رمز QR للرابط إلى مستندك
phone-scan = امسح هذا الرمز بكاميرا هاتفك: يُفتح المستند في متصفحه.
phone-link-label = أو اكتب هذا العنوان في متصفح هاتفك:
phone-once = يعمل الرابط مرة واحدة فقط، حتى { $time }.
phone-private = يُشفَّر المستند على هذا الحاسوب قبل أن يخرج منه: خادم المدينة لا يستطيع قراءته. المفتاح موجود في هذا الرمز فقط.
phone-still-erased = يبقى المستند أيضًا على هذا الحاسوب حتى نهاية جلستك، ثم يُمحى.
phone-back = العودة إلى مستنداتي
phone-error-off = هذا المركز لا يرسل المستندات إلى الهواتف. اطبعها أو اسأل الفريق.
phone-error-document = هذا المستند لم يعد موجودًا. انظر إلى القائمة مرة أخرى.
phone-error-large = هذا المستند كبير جدًا بالنسبة للهاتف (32 ميغابايت كحد أقصى). اطبعه أو اسأل الفريق.
phone-error-busy = يجري إرسال مستند آخر. حاول مرة أخرى بعد لحظة.
phone-error-refused = لم يتمكن الخادم من حفظ المستند. حاول مرة أخرى بعد بضع دقائق أو اسأل الفريق.

## Copy to my USB stick

usb-copy-title = نسخ إلى ذاكرة USB الخاصة بي
usb-copy-explain = أدخل ذاكرتك، وحدد المستندات، ثم اضغط على الزر. لا يقرأ الحاسوب ما هو موجود على ذاكرتك.
usb-copy-choose = المستندات المراد نسخها
usb-copy-submit = نسخ إلى ذاكرة USB الخاصة بي
usb-done-title = تم نسخ المستندات
usb-done-count = { $count ->
    [one] تم نسخ مستند واحد إلى ذاكرة USB الخاصة بك.
   *[other] تم نسخ { $count } مستندات إلى ذاكرة USB الخاصة بك.
}
usb-done-remove = يمكنك نزع ذاكرتك الآن.
usb-none-chosen = حدد مستندًا واحدًا على الأقل.
usb-no-stick = لا توجد ذاكرة USB موصولة. أدخلها، وانتظر بضع ثوانٍ، ثم حاول مرة أخرى.
usb-format = تعذّر فتح هذه الذاكرة (صيغة غير معروفة). اسأل الفريق.
usb-no-space = لا توجد مساحة كافية على ذاكرتك لهذه المستندات.
usb-failed = لم ينجح النسخ. انزع ذاكرتك وأعد إدخالها وحاول مرة أخرى، أو اسأل الفريق.

## Printing knowingly

print-title = طباعاتك
print-held = لا يخرج شيء من الطابعة قبل موافقتك.
print-job = الطباعة رقم { $job }
print-pages = عدد الصفحات: { $pages }
print-uncounted = تعذّر عدّ الصفحات.
print-left = الصفحات المجانية المتبقية: { $pages }
print-confirm = اطبع
print-cancel = ألغِ هذه الطباعة
print-beyond = هذا أكثر من صفحاتك المجانية. يمكن لأحد الموظفين إطلاقها: اسأل في الاستقبال.
print-staff = يمكن لأحد الموظفين إطلاقها: اسأل في الاستقبال.
print-error-staff = هذه الطباعة تنتظر أحد الموظفين.
print-error-gone = هذه الطباعة لم تعد في الانتظار.
print-error-failed = لم تستجب الطابعة. حاول مرة أخرى أو اسأل في الاستقبال.
