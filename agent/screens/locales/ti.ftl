# Commune: the visitor's screens, in Tigrinya. Machine-assisted translation: to be reviewed by a native speaker.

page-title = ንኹሉ ሰብ ክፉት ኮምፒተር
skip-to-content = ናብ ትሕዝቶ ኪዱ
choose-language = ቋንቋኹም ምረጹ
change-language = ቋንቋ ቀይሩ

## Welcome

welcome-title = እንቋዕ ብደሓን መጻእኩም
welcome-text = እዚ ኮምፒተር ንናይ ኢንተርነት ምምሕዳራዊ ጉዳያትኩም እዩ: CAF፣ ናይ ጥዕና መድሕን፣ ግብሪ፣ ፍቓድ መንበሪ፣ ስራሕ…
welcome-free = ብነጻ እዩ።
welcome-start = ጀምሩ

## Charter (no time limit on this page)

charter-title = ናይ ኮምፒተር ኣጠቓቕማ ውዕል
charter-summary = ክፍለ-ግዜኹም ናትኩም ጥራይ እዩ። ኣብ መወዳእታ ኩሉ ይስረዝ።
charter-recorded-title = ኮምፒተር እንታይ ይምዝግብ
charter-recorded-1 = ክፍለ-ግዜኹም ዝጀመረሉን ዝተወድኣሉን ሰዓት።
charter-recorded-2 = በይንኹም ድዩ ወይስ ምስ ሓጋዚ ዝነበርኩም።
charter-recorded-3 = ኣብ መወዳእታ ኩሉ ብግቡእ ከም ዝተሰረዘ።
charter-not-recorded-title = ኮምፒተር ፈጺሙ ዘይምዝግቦ
charter-not-recorded-1 = ስምኩም።
charter-not-recorded-2 = እትኸፍትዎም ወብሳይትታት።
charter-not-recorded-3 = እትጽሕፍዎ ነገር።
charter-not-recorded-4 = ሰነዳትኩምን ቃላት ምሕላፍኩምን።
charter-rules-title = ሕግታት
charter-rules-1 = ግዜ ክፍለ-ግዜኹም ድሩት እዩ።
charter-rules-2 = ኮምፒተር ቅድሚ መወዳእታ 5 ደቒቕ፣ ድሕሪኡ ድማ ቅድሚ 1 ደቒቕ የጠንቅቐኩም።
charter-rules-3 = ኣብ መወዳእታ ሰነዳትኩም ይስረዙ። ክትዕቅብዎም እንተደሊኹም፣ ኣብ USB ኣቐምጥዎም ወይ ሕተምዎም።
charter-rules-3-no-usb = ኣብ መወዳእታ ሰነዳትኩም ይስረዙ። ክትዕቅብዎም እንተደሊኹም፣ ሕተምዎም።
charter-rules-4 = ካብ ኣካውንትታትኩም ምውጻእ ኣይትረስዑ። እቲ ኣብ መወዳእታ ዝግበር ምስራዝ እውን ይገብሮ እዩ።
charter-rules-5 = ንኻልኦት ሰባትን ንመሳርሒታትን ኣኽብሩ።
charter-help = ሓገዝ የድልየኩም ድዩ? ኣብ መቐበሊ ሕተቱ።
charter-no-hurry = ኣይትተሃወኹ: እዚ ገጽ ደረት ግዜ የብሉን።
charter-accept = ተረዲኡኒ፣ ክቕጽል እየ

## Free access

start-title = ክፍለ-ግዜኹም ጀምሩ
start-length = ክፍለ-ግዜኹም { $minutes } ደቒቕ ይወስድ።
start-until = ክፍለ-ግዜኹም ክሳብ ሰዓት { $time } ክቕጽል ይኽእል።
start-submit = ክፍለ-ግዜይ ጀምር
ticket-text = ናይ ቲኬትኩም ኮድ ጽሓፉ። እቲ ኮድ ኣብቲ ኣብ መቐበሊ ዝተዋህበኩም ወረቐት ኣሎ።
ticket-label = ኮድ ቲኬት
ticket-hint = 8 ፊደላትን ቁጽርታትን። ንኣብነት: K7MN-3XPA
ticket-none = ቲኬት የብልኩምን? ካብ መቐበሊ ሓደ ቲኬት ሕተቱ።

## Errors when opening a session

error-title = ክፍለ-ግዜኹም ኣይተኸፍተን
error-ticket-invalid = እዚ ኮድ ናይ ቲኬት ኮድ ኣይኮነን። ኮድ 8 ፊደላትን ቁጽርታትን ኣለዎ። ኣረጋግጹ እሞ እንደገና ጽሓፍዎ።
error-ticket-unknown = እዚ ቲኬት ኣብዚ ኣይፍለጥን። ነቲ ኮድ ኣረጋግጹ፣ ወይ ኣብ መቐበሊ ሕተቱ።
error-ticket-used = እዚ ቲኬት ድሮ ኣገልጊሉ እዩ። ካብ መቐበሊ ሓድሽ ቲኬት ሕተቱ።
error-ticket-expired = ግዜ እዚ ቲኬት ሓሊፉ እዩ። ካብ መቐበሊ ሓድሽ ቲኬት ሕተቱ።
error-ticket-required = ቲኬት የድሊ። ካብ መቐበሊ ሓደ ቲኬት ሕተቱ።
error-busy = ኣብዚ ኮምፒተር ድሮ ክፉት ክፍለ-ግዜ ኣሎ።
error-wiping = ኮምፒተር ነቲ ዝሓለፈ ክፍለ-ግዜ ይሰርዝ ኣሎ። ቁሩብ ጸኒሕኩም እንደገና ፈትኑ።
error-closed = ኮምፒተር ሕጂ ዕጹው እዩ።
error-blocked = ኮምፒተር ኣይሰርሕን እዩ። ኣብ መቐበሊ ሕተቱ።
error-supervised = ሕጂ ግዜ ሓገዝ እዩ: ሓጋዚኹም ክፍለ-ግዜኹም ክኸፍት እዩ።
error-pin = እዚ ኮድ ሓጋዚ ጌጋ እዩ።
error-too-many = ብዙሕ ፈተነታት ተገይሩ። ሓደ ደቒቕ ተጸበዩ፣ ድሕሪኡ እንደገና ፈትኑ።
error-other = ኮምፒተር ክፍለ-ግዜኹም ክኸፍት ኣይከኣለን። ኣብ መቐበሊ ሕተቱ።

## Supervised slot

supervised-title = ምስ ሓጋዚ ዝግበር ክፍለ-ግዜ
supervised-text = ሓጋዚኹም ክፍለ-ግዜኹም ክኸፍት እዩ።
supervised-wait = በጃኹም ቁሩብ ተጸበዩ።
supervised-permanence = ግዜ ሓገዝ: { $name }
mediator-title = ንሓጋዚ
mediator-label = ኮድ ሓጋዚ
mediator-submit = ክፍለ-ግዜ ክፈት

## During the session

session-title = ክፍለ-ግዜኹም
session-time-left = ዝተረፈ ግዜ
session-ends-at = ክፍለ-ግዜ ሰዓት { $time } ይውዳእ።
session-no-limit = ደረት ግዜ የብሉን። ሓጋዚኹም ምሳኹም ኮይኑ ነቲ ክፍለ-ግዜ ክዛዝሞ እዩ።
session-supervised = ምስ ሓጋዚ ዝግበር ክፍለ-ግዜ።
warning-title = ተጠንቀቑ
warning-5 = ክፍለ-ግዜኹም ድሕሪ 5 ደቒቕ ይውዳእ። ሰነዳትኩም ዓቕቡ።
warning-1 = ክፍለ-ግዜኹም ድሕሪ 1 ደቒቕ ይውዳእ። ሰነዳትኩም ክስረዙ እዮም።
session-documents = ሰነዳተይ ርአ
session-end-now = ክፍለ-ግዜይ ሕጂ ዛዝም

## End of the session

end-title = ክፍለ-ግዜኹም ዛዝሙ
end-documents-title = እዞም ሰነዳት ክስረዙ እዮም
end-documents-none = ኣብ «Téléchargements» (ዝወረዱ ሰነዳት) ይኹን ኣብ «Numérisations» (ስካን ዝተገብሩ ሰነዳት) ዝኾነ ሰነድ የብልኩምን።
end-keep-title = ሰነዳትኩም ንምዕቃብ
end-keep-usb = ኣብ ናትኩም USB ኣቐምጥዎም።
end-keep-print = ሕተምዎም።
end-keep-mail = ወይ ናብ ኢመይልኩም ስደድዎም።
end-confirm = እወ፣ ዛዝምን ኩሉ ሰርዝን
end-back = ኣይፋል፣ ናብ ክፍለ-ግዜይ ተመለስ

erased-title = ክፍለ-ግዜኹም ተሰሪዙ እዩ
erased-text = ኣብዚ ኮምፒተር ዝገበርኩምዎ ኩሉ ተሰሪዙ እዩ። ዝቕጽል ሰብ ዋላ ሓንቲ ኣይርእን እዩ።
erased-checked = ተረጋጊጹ: { $checks } ምርመራታት ተገይሩ፣ ዋላ ሓንቲ ኣይተረኽበን፣ ኣብ { $seconds } ካልኢት።
erased-failed = እቲ ምስራዝ ክረጋገጽ ኣይከኣለን። ኮምፒተር ተዓጽዩ እዩ። ንመቐበሊ ሓብሩ።
erased-thanks = የቐንየልና፣ ጽቡቕ መዓልቲ ይግበረልኩም።
erased-home = ናብ መእተዊ ገጽ ተመለስ
wiping-title = ምስራዝ ይካየድ ኣሎ
wiping-text = ኮምፒተር ነቲ ክፍለ-ግዜ ይሰርዝ ኣሎ። በጃኹም ሒደት ካልኢት ተጸበዩ።

## Closed and blocked

closed-title = ኮምፒተር ዕጹው እዩ
closed-reopens-today = ሎሚ ሰዓት { $time } እንደገና ይኽፈት።
closed-reopens-tomorrow = ጽባሕ ሰዓት { $time } እንደገና ይኽፈት።
closed-reopens-on = ኣብ { $date }፣ ሰዓት { $time } እንደገና ይኽፈት።
closed-unknown = ሰዓታት ስራሕ ኣብ መቐበሊ ተለጢፉ ኣሎ።
closed-staff-message = መልእኽቲ ካብ መቐበሊ: { $message }
closed-ask = ንዝኾነ ሕቶ፣ ኣብ መቐበሊ Maison des Habitants ሕተቱ።
blocked-title = ኮምፒተር ኣይሰርሕን እዩ
blocked-text = ነዚ ኮምፒተር ሕጂ ክትጥቀሙሉ ኣይትኽእሉን ኢኹም።
blocked-ask = ኣብ መቐበሊ ሕተቱ: ምናልባት ካልእ ባዶ ኮምፒተር ይህሉ ይኸውን።

## Device guard

checked-on = እዚ ኮምፒተር ብሰራሕተኛታት ኣብ { $date }፣ ሰዓት { $time } ተመርሚሩ።
alarm-title = ኮምፒተር ንድሕንነት ተዓጽዩ እዩ
alarm-text = ድሕሪ እቲ ናይ መወዳእታ ምርመራ፣ ኪቦርድ ወይ ካልእ መሳርሒ ምስዚ ኮምፒተር ተኣሳሲሩ እዩ። ሓደ ካብ ሰራሕተኛታት ክሳብ ዝምርምሮ፣ ዝኾነ ሰብ ክጥቀመሉ ኣይክእልን።
alarm-no-password = ኣብዚ ኮምፒተር ዝኾነ ቃል ምሕላፍ ወይ ኮድ ኣይትጽሓፉ።
alarm-ask = ንመቐበሊ ወይ ንሓጋዚ ሓብሩ። ምናልባት ካልእ ባዶ ኮምፒተር ይህሉ ይኸውን።
alarm-device = ዝተረኽበ መሳርሒ:
alarm-staff-title = ንሰራሕተኛታት
alarm-staff-label = ኮድ ሓጋዚ፣ ነቲ ኬብልን ኪቦርድን ድሕሪ ምምርማር
alarm-staff-submit = መሳርሒታት ተመርሚሮም: ክፈት
error-device-alarm = እዚ ኮምፒተር ንድሕንነት ተዓጽዩ እዩ: ሓደ መሳርሒ ተኣሳሲሩ። ንመቐበሊ ሓብሩ።

## Stepping away

away-title = ንሒደት ደቓይቕ ክወጽእ እየ
away-explain = ወረቐት ወይ ሕትመት ከተምጽኡ ትኸዱ ዶ? ክፍለ-ግዜኹም ብእትመርጽዎ ኮድ ዕጸውዎ። ክትምለሱ { $minutes } ደቒቕ ኣለኩም። ግዜ ክፍለ-ግዜኹም ምኻዱ ይቕጽል።
away-code-label = ኮድ ምረጹ (ካብ 4 ክሳብ 8 ቁጽርታት)
away-code-hint = ዘክርዎ: ናብ ክፍለ-ግዜኹም ንምምላስ ክትጽሕፍዎ ኢኹም።
away-again-label = ነቲ ተመሳሳሊ ኮድ ሓንሳብ ደጊምኩም ጽሓፍዎ
away-submit = ክፍለ-ግዜይ ዕጸው
away-locked-title = ክፍለ-ግዜ ተዓጽዩ ኣሎ
away-locked-text = እቲ ነዚ ኮምፒተር ዝጥቀም ዘሎ ሰብ ንሒደት ደቓይቕ ወጺኡ ኣሎ። ክፍለ-ግዜኡ ተዓጽዩ ኣሎ።
away-time-left = ንምምላስ ዝተረፈ ግዜ
away-until = ቅድሚ ሰዓት { $time } ተመለሱ።
away-erased-after = እቲ ሰብ ብግዜኡ እንተዘይተመሊሱ፣ ወይ ድሕሪ 5 ጌጋ ኮድ፣ ክፍለ-ግዜ ይውዳእን ኩሉ ይስረዝን።
away-back-label = ኮድኩም
away-back-submit = ናብ ክፍለ-ግዜይ ተመለስ
away-tries-left = ዝተረፉ ፈተነታት: { $tries }።
away-error-wrong = እዚ ኮድ ጌጋ እዩ።
away-error-mismatch = እቶም ክልተ ኮዳት ዝተፈላለዩ እዮም። ሓደ ዓይነት ኮድ ክልተ ግዜ ጽሓፉ።
away-error-code = ካብ 4 ክሳብ 8 ቁጽርታት ዘለዎ ኮድ ምረጹ።
away-error-off = እዚ ኮምፒተር ክፍለ-ግዜ ንምዕጻው ኣይፈቕድን።
away-error-late = ክፍለ-ግዜኹም ካብ ሓደ ደቒቕ ብዝውሕድ ግዜ ክውዳእ እዩ: ሕጂ ክዕጾ ኣይክእልን እዩ።
away-error-lock = እዚ ኮምፒተር ስክሪኑ ክዓጹ ኣይክእልን፡ ክፍለ-ግዜኹም ኣይተዓጽወን። ኣብ ጥቓ እቲ ኮምፒተር ጽንሑ ወይ ክፍለ-ግዜኹም ወድኡ።

## USB sticks

usb-refused = ኣብዚ ማእከል ኣብ ዘለዉ ኮምፒተራት USB ፍላሽ ኣይፍቀድን እዩ፡ ፍላሽኩም ተፈልዩ፣ ካብኡ ዝተነበበ የለን። ሰነዳትኩም ንምሓዝ፡ ሕተምዎም ወይ ንእንግዳ መቐበሊ ሕተቱ።

## ሓጋዚ ምጽዋዕ

help-call = ሓጋዚ ጸውዑ
help-title = ሓጋዚ ጸውዑ
help-text = ሓጋዚ መጺኡ ክሕግዘኩም ይኽእል።
help-private = እዚ ኮምፒተር ምርጫኹም ጥራይ እዩ ዝሰድድ። ስክሪንኩም ወይ ዝጸሓፍኩምዎ ፈጺሙ ኣይሰድድን።
help-choose = ብምንታይ ሓገዝ የድልየኩም?
help-need-printing = ምሕታም ወይ ስካን
help-need-account = ኣካውንት ወይ ቃል-ምሕላፍ
help-need-form = ቅጥዒ
help-need-other = ካልእ ነገር
help-sent-title = ጻውዒትኩም ተላኢኹ
help-sent-text = ኣብ ቦታኹም ጽንሑ። ሓጋዚ ጻውዒትኩም ክርኢ እዩ።
help-taken-title = ሓጋዚ ይመጽእ ኣሎ
help-taken-text = ሓጋዚ ጻውዒትኩም ተቐቢሉ ክሕግዘኩም ይመጽእ ኣሎ።
help-your-need = ሕቶኹም:
help-cancel = ጻውዒተይ ሰርዝ
help-back = ናብ ክፍለ-ግዜይ ተመለስ
help-error-too-soon = ሕጂ ጸዊዕኩም ኢኹም። 30 ሰከንድ ተጸበዩ፣ ድሕሪኡ እንደገና ፈትኑ።
help-error-too-many = ብዙሕ ግዜ ጸዊዕኩም ኢኹም። ኣብ መቐበሊ ሕተቱ።
help-error-other = ጻውዒት ኣይተላእከን። ኣብ መቐበሊ ሕተቱ።

## The wait

wait-title = ኮምፒተር ትጽበዩ ዶ?
wait-free = ሕጂ ነጻ ዝኾኑ ኮምፒተራት: { $count }። ንእንግዳ መቐበሊ ሕተቱ።
wait-all-busy = ሕጂ ኩሎም ኮምፒተራት ተታሒዞም ኣለዉ።
wait-next = እቲ ዝቕጽል ኣብ ኣስታት { $time } ነጻ ክኸውን ይኽእል።
wait-reserved = ንናይ ሓገዝ ግዜ ዝተሓዙ:
wait-reserved-until = { $permanence }፣ ክሳብ { $time }

## Closing time

closing-title = እቲ ማእከል ቀልጢፉ ክዕጾ እዩ
closing-at = መዕጸዊ ሰዓት { $time }: ክፍለ-ግዜታት ኣብቲ ሰዓት ይውድኡ። ሰነዳትኩም ቅድሚኡ ዓቅቡ።

## Send to my phone

phone-send = ናብ ተሌፎነይ ስደድ
phone-offline = ሕጂ ናብ ተሌፎን ምልኣኽ ኣይከኣልን (መርበብ)። ንሰራሕተኛታት ሕተቱ።
phone-sent-title = ናብ ተሌፎንኩም ዝተላእኩ
phone-until = እቲ መላግቦ ክሳብ { $time } ይሰርሕ
phone-show-again = ናይ መወዳእታ ኮድ ደጊምካ ኣርኢ
end-keep-phone = ናብ ተሌፎንኩም ስደድዎም፦ ዝስካን ኮድ፣ ብዘይ ሕሳብን ቃል ምስጢርን።
phone-title = ሰነድኩም ኣብ ተሌፎንኩም
phone-qr-label = ናይ ሰነድኩም መላግቦ QR ኮድ
phone-scan = ነዚ ኮድ ብካሜራ ተሌፎንኩም ስካን ግበሩ፦ እቲ ሰነድ ኣብ ብራውዘሩ ይኽፈት።
phone-link-label = ወይ ነዚ ኣድራሻ ኣብ ብራውዘር ተሌፎንኩም ጽሓፍዎ፦
phone-once = እቲ መላግቦ ሓንሳብ ጥራይ ይሰርሕ፣ ክሳብ { $time }።
phone-private = እቲ ሰነድ ቅድሚ ምውጽኡ ኣብዚ ኮምፒዩተር ይምስጠር፦ ሰርቨር ከተማ ከንብቦ ኣይክእልን። እቲ መፍትሕ ኣብዚ ኮድ ጥራይ እዩ ዘሎ።
phone-still-erased = እቲ ሰነድ ክሳብ መወዳእታ ክፍለ-ግዜኹም ኣብዚ ኮምፒዩተር እውን ይጸንሕ፣ ድሕሪኡ ይድምሰስ።
phone-back = ናብ ሰነዳተይ ተመለስ
phone-error-off = እዚ ማእከል ሰነዳት ናብ ተሌፎናት ኣይሰድድን። ሕተምዎም ወይ ንሰራሕተኛታት ሕተቱ።
phone-error-document = እዚ ሰነድ ድሕሪ ሕጂ የለን። ነቲ ዝርዝር ደጊምኩም ርኣዩ።
phone-error-large = እዚ ሰነድ ንተሌፎን ኣዝዩ ዓቢ እዩ (ክሳብ 32 MB)። ሕተምዎ ወይ ንሰራሕተኛታት ሕተቱ።
phone-error-busy = ካልእ ሰነድ ይለኣኽ ኣሎ። ድሕሪ ቅሩብ ደጊምኩም ፈትኑ።
phone-error-refused = እቲ ሰርቨር ነቲ ሰነድ ክዕቅቦ ኣይከኣለን። ድሕሪ ቅሩብ ደቓይቕ ደጊምኩም ፈትኑ ወይ ንሰራሕተኛታት ሕተቱ።

## Copy to my USB stick

usb-copy-title = ናብ USB ፍላሽይ ቅዳሕ
usb-copy-explain = ፍላሽኩም ኣእትዉ፣ ነቶም ሰነዳት ምልክት ግበሩ፣ ድሕሪኡ ነቲ መጠወቒ ጠውቑ። እቲ ኮምፒዩተር ኣብ ፍላሽኩም ዘሎ ኣየንብብን።
usb-copy-choose = ዝቕዳሑ ሰነዳት
usb-copy-submit = ናብ USB ፍላሽይ ቅዳሕ
usb-done-title = ሰነዳት ተቐዲሖም
usb-done-count = { $count ->
    [one] 1 ሰነድ ናብ USB ፍላሽኩም ተቐዲሑ።
   *[other] { $count } ሰነዳት ናብ USB ፍላሽኩም ተቐዲሖም።
}
usb-done-remove = ሕጂ ፍላሽኩም ከተውጽኡ ትኽእሉ ኢኹም።
usb-none-chosen = እንተወሓደ ሓደ ሰነድ ምልክት ግበሩ።
usb-no-stick = ዝኣተወ USB ፍላሽ የለን። ኣእትውዎ፣ ቅሩብ ካልኢታት ተጸበዩ፣ ድሕሪኡ ደጊምኩም ፈትኑ።
usb-format = እዚ ፍላሽ ክኽፈት ኣይከኣለን (ዘይፍለጥ ቅርጺ)። ንሰራሕተኛታት ሕተቱ።
usb-no-space = ኣብ ፍላሽኩም ነዚኦም ሰነዳት ዝኣክል ቦታ የለን።
usb-failed = እቲ ቅዳሕ ኣይሰርሐን። ፍላሽኩም ኣውጽኡ፣ ደጊምኩም ኣእትዉ እሞ ፈትኑ፣ ወይ ንሰራሕተኛታት ሕተቱ።

## Printing knowingly

print-title = ሕትመታትኩም
print-held = ቅድሚ ፍቓድኩም ካብ ማሕተሚ ዝወጽእ ነገር የለን።
print-job = ሕትመት ቁጽሪ { $job }
print-pages = ብዝሒ ገጻት: { $pages }
print-uncounted = ብዝሒ ገጻት ክቑጸር ኣይከኣለን።
print-left = ዝተረፉ ናጻ ገጻት: { $pages }
print-confirm = ሕተም
print-cancel = ነዚ ሕትመት ሰርዝ
print-beyond = እዚ ካብ ናጻ ገጻትኩም ይበዝሕ። ሓደ ሰራሕተኛ ክጅምሮ ይኽእል: ኣብ መቐበሊ ሕተቱ።
print-staff = ሓደ ሰራሕተኛ ክጅምሮ ይኽእል: ኣብ መቐበሊ ሕተቱ።
print-error-staff = እዚ ሕትመት ንሓደ ሰራሕተኛ ይጽበ ኣሎ።
print-error-gone = እዚ ሕትመት ደጊም ኣይጽበን እዩ።
print-error-failed = ማሕተሚ ኣይመለሰን። እንደገና ፈትኑ ወይ ኣብ መቐበሊ ሕተቱ።
