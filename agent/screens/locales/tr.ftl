# Commune: the visitor's screens, in Turkish. Machine-assisted translation: to be reviewed by a native speaker.

page-title = Herkese açık bilgisayar
skip-to-content = İçeriğe geç
choose-language = Dilinizi seçin
change-language = Dili değiştir

## Welcome

welcome-title = Hoş geldiniz
welcome-text = Bu bilgisayar, internetteki resmî işleriniz içindir: CAF, sağlık sigortası, vergiler, oturma izni, iş…
welcome-free = Ücretsizdir.
welcome-start = Başla

## Charter (no time limit on this page)

charter-title = Bilgisayar kullanım sözleşmesi
charter-summary = Oturumunuz yalnızca size aittir. Sonunda her şey silinir.
charter-recorded-title = Bilgisayarın kaydettikleri
charter-recorded-1 = Oturumunuzun başlama ve bitiş saati.
charter-recorded-2 = Yalnız mı, yoksa bir rehberle mi olduğunuz.
charter-recorded-3 = Sonunda her şeyin gerçekten silindiği.
charter-not-recorded-title = Bilgisayarın hiçbir zaman kaydetmedikleri
charter-not-recorded-1 = Adınız.
charter-not-recorded-2 = Girdiğiniz internet siteleri.
charter-not-recorded-3 = Yazdıklarınız.
charter-not-recorded-4 = Belgeleriniz ve şifreleriniz.
charter-rules-title = Kurallar
charter-rules-1 = Oturumunuzun süresi sınırlıdır.
charter-rules-2 = Bilgisayar sizi bitişten 5 dakika önce, sonra da 1 dakika önce uyarır.
charter-rules-3 = Sonunda belgeleriniz silinir. Saklamak için onları bir USB belleğe kaydedin veya yazdırın.
charter-rules-3-no-usb = Sonunda belgeleriniz silinir. Saklamak için onları yazdırın.
charter-rules-4 = Hesaplarınızdan çıkış yapmayı unutmayın. Silme işlemi de bunu yapar.
charter-rules-5 = Diğer insanlara ve eşyalara saygı gösterin.
charter-help = Yardım mı gerekiyor? Danışmaya sorun.
charter-no-hurry = Acele etmeyin: bu sayfada süre sınırı yok.
charter-accept = Anladım, devam ediyorum

## Free access

start-title = Oturumunuzu açın
start-length = Oturumunuz { $minutes } dakika sürer.
start-until = Oturumunuz en geç şu saate kadar sürebilir: { $time }.
start-submit = Oturumumu aç
ticket-text = Biletinizdeki kodu yazın. Kod, danışmada size verilen kâğıtta yazılıdır.
ticket-label = Bilet kodu
ticket-hint = 8 harf ve rakam. Örneğin: K7MN-3XPA
ticket-none = Biletiniz yok mu? Danışmadan bir bilet isteyin.

## Errors when opening a session

error-title = Oturumunuz açılmadı
error-ticket-invalid = Bu kod bir bilet kodu değil. Bir kodda 8 harf ve rakam vardır. Kontrol edin ve tekrar yazın.
error-ticket-unknown = Bu bilet burada tanınmıyor. Kodu kontrol edin veya danışmaya sorun.
error-ticket-used = Bu bilet daha önce kullanıldı. Danışmadan yeni bir bilet isteyin.
error-ticket-expired = Bu biletin süresi doldu. Danışmadan yeni bir bilet isteyin.
error-ticket-required = Bir bilet gerekiyor. Danışmadan bir bilet isteyin.
error-busy = Bu bilgisayarda zaten açık bir oturum var.
error-wiping = Bilgisayar önceki oturumu siliyor. Biraz sonra tekrar deneyin.
error-closed = Bilgisayar şu anda kapalı.
error-blocked = Bilgisayar hizmet dışı. Danışmaya sorun.
error-supervised = Şu an rehberli yardım saati: rehberiniz oturumunuzu açacak.
error-pin = Bu rehber kodu yanlış.
error-too-many = Çok fazla deneme yapıldı. Bir dakika bekleyin, sonra tekrar deneyin.
error-other = Bilgisayar oturumunuzu açamadı. Danışmaya sorun.

## Supervised slot

supervised-title = Rehberli oturum
supervised-text = Rehberiniz oturumunuzu açacak.
supervised-wait = Lütfen biraz bekleyin.
supervised-permanence = Yardım saati: { $name }
mediator-title = Rehber için
mediator-label = Rehber kodu
mediator-submit = Oturumu aç

## During the session

session-title = Oturumunuz
session-time-left = Kalan süre
session-ends-at = Oturumun bitiş saati: { $time }.
session-no-limit = Süre sınırı yok. Rehberiniz oturumu sizinle birlikte bitirecek.
session-supervised = Rehber eşliğinde oturum.
warning-title = Dikkat
warning-5 = Oturumunuz 5 dakika sonra bitiyor. Belgelerinizi kaydedin.
warning-1 = Oturumunuz 1 dakika sonra bitiyor. Belgeleriniz silinecek.
session-documents = Belgelerimi göster
session-end-now = Oturumumu şimdi bitir

## End of the session

end-title = Oturumunuzu bitirin
end-documents-title = Bu belgeler silinecek
end-documents-none = “Téléchargements” (İndirilenler) ve “Numérisations” (Taramalar) klasörlerinde hiç belgeniz yok.
end-keep-title = Belgelerinizi saklamak için
end-keep-usb = Onları USB belleğinize kaydedin.
end-keep-print = Onları yazdırın.
end-keep-mail = Ya da onları e-posta adresinize gönderin.
end-confirm = Evet, bitir ve her şeyi sil
end-back = Hayır, oturumuma geri dön

erased-title = Oturumunuz silindi
erased-text = Bu bilgisayarda yaptığınız her şey silindi. Sonraki kişi hiçbir şey görmeyecek.
erased-checked = Kontrol edildi: { $checks } kontrol yapıldı, hiçbir şey bulunmadı. Süre: { $seconds } saniye.
erased-failed = Silme işlemi kontrol edilemedi. Bilgisayar kilitlendi. Danışmaya haber verin.
erased-thanks = Teşekkürler, iyi günler.
erased-home = Ana sayfaya dön
wiping-title = Siliniyor
wiping-text = Bilgisayar oturumu siliyor. Lütfen birkaç saniye bekleyin.

## Closed and blocked

closed-title = Bilgisayar kapalı
closed-reopens-today = Bugün tekrar açılış saati: { $time }.
closed-reopens-tomorrow = Yarın tekrar açılış saati: { $time }.
closed-reopens-on = Tekrar açılış: { $date }, saat { $time }.
closed-unknown = Açılış saatleri danışmada asılıdır.
closed-staff-message = Danışmadan mesaj: { $message }
closed-ask = Sorularınız için Maison des Habitants danışmasına başvurun.
blocked-title = Bilgisayar hizmet dışı
blocked-text = Bu bilgisayar şu anda kullanılamıyor.
blocked-ask = Danışmaya sorun: belki başka bir bilgisayar boştur.

## Device guard

checked-on = Bu bilgisayar personel tarafından kontrol edildi: { $date }, saat { $time }.
alarm-title = Bilgisayar güvenlik için kilitlendi
alarm-text = Son kontrolden sonra bu bilgisayara bir klavye veya başka bir cihaz takıldı. Bir personel kontrol edene kadar kimse bu bilgisayarı kullanamaz.
alarm-no-password = Bu bilgisayara hiçbir şifre veya kod yazmayın.
alarm-ask = Danışmaya veya bir rehbere haber verin. Belki başka bir bilgisayar boştur.
alarm-device = Bulunan cihaz:
alarm-staff-title = Personel için
alarm-staff-label = Rehber kodu (kabloyu ve klavyeyi kontrol ettikten sonra)
alarm-staff-submit = Cihazlar kontrol edildi: kilidi aç
error-device-alarm = Bu bilgisayar güvenlik için kilitlendi: bir cihaz takıldı. Danışmaya haber verin.

## Stepping away

away-title = Birkaç dakikalığına ayrılmak
away-explain = Bir kâğıt veya çıktı almaya mı gidiyorsunuz? Oturumunuzu kendi seçtiğiniz bir kodla kilitleyin. Geri dönmek için { $minutes } dakikanız var. Oturumunuzun süresi işlemeye devam eder.
away-code-label = Bir kod seçin (4 ile 8 arası rakam)
away-code-hint = Bu kodu unutmayın: oturumunuza dönmek için onu yazmanız gerekecek.
away-again-label = Aynı kodu bir kez daha yazın
away-submit = Oturumumu kilitle
away-locked-title = Oturum kilitli
away-locked-text = Bu bilgisayarı kullanan kişi birkaç dakikalığına ayrıldı. Oturumu kilitli.
away-time-left = Geri dönmek için kalan süre
away-until = Geri dönüş için son saat: { $time }.
away-erased-after = Kişi zamanında dönmezse veya 5 kez yanlış kod yazılırsa oturum biter ve her şey silinir.
away-back-label = Kodunuz
away-back-submit = Oturumuma geri dön
away-tries-left = Kalan deneme: { $tries }.
away-error-wrong = Bu kod yanlış.
away-error-mismatch = İki kod birbirinden farklı. Aynı kodu iki kez yazın.
away-error-code = 4 ile 8 arası rakamdan oluşan bir kod seçin.
away-error-off = Bu bilgisayarda oturum kilitlenemez.
away-error-late = Oturumunuz bir dakikadan kısa bir süre içinde bitiyor: artık kilitlenemez.
away-error-lock = Bu bilgisayar ekranını kilitleyemiyor: oturumunuz kilitlenmedi. Bilgisayarın yanında kalın veya oturumunuzu bitirin.

## USB sticks

usb-refused = Bu merkezin bilgisayarlarında USB bellek kullanılamaz: belleğiniz devre dışı bırakıldı, içinden hiçbir şey okunmadı. Belgelerinizi saklamak için yazdırın veya danışmaya sorun.

## Rehber çağırma

help-call = Rehber çağır
help-title = Rehber çağır
help-text = Bir rehber gelip size yardım edebilir.
help-private = Bilgisayar yalnızca seçiminizi gönderir. Ekranınızı ya da yazdıklarınızı asla göndermez.
help-choose = Ne için yardıma ihtiyacınız var?
help-need-printing = Yazdırma veya tarama
help-need-account = Bir hesap veya şifre
help-need-form = Bir form
help-need-other = Başka bir şey
help-sent-title = Çağrınız gönderildi
help-sent-text = Yerinizde kalın. Bir rehber çağrınızı görecek.
help-taken-title = Bir rehber geliyor
help-taken-text = Bir rehber çağrınızı aldı ve size yardıma geliyor.
help-your-need = İsteğiniz:
help-cancel = Çağrımı iptal et
help-back = Oturumuma geri dön
help-error-too-soon = Az önce çağırdınız. 30 saniye bekleyin, sonra tekrar deneyin.
help-error-too-many = Zaten birkaç kez çağırdınız. Danışmaya sorun.
help-error-other = Çağrı gönderilemedi. Danışmaya sorun.

## The wait

wait-title = Bilgisayar mı bekliyorsunuz?
wait-free = Şu anda boş bilgisayar sayısı: { $count }. Danışmaya sorun.
wait-all-busy = Şu anda bütün bilgisayarlar dolu.
wait-next = Bir sonrakinin boşalması beklenen saat: { $time }.
wait-reserved = Bir danışma saati için ayrılmış:
wait-reserved-until = { $permanence }, bitiş: { $time }

## Closing time

closing-title = Merkez yakında kapanıyor
closing-at = Kapanış saati: { $time }. Oturumlar o saatte biter. Belgelerinizi önceden kaydedin.

## Send to my phone

phone-send = Telefonuma gönder
phone-offline = Şu anda telefona gönderilemiyor (ağ). Ekibe sorun.
phone-sent-title = Telefonunuza gönderilenler
phone-until = bağlantı { $time } saatine kadar geçerli
phone-show-again = Son kodu yeniden göster
end-keep-phone = Telefonunuza gönderin: taranacak bir kod, hesap ya da şifre gerekmez.
phone-title = Belgeniz telefonunuzda
phone-qr-label = Belgenizin bağlantısının QR kodu
phone-scan = Bu kodu telefonunuzun kamerasıyla tarayın: belge tarayıcısında açılır.
phone-link-label = Ya da bu adresi telefonunuzun tarayıcısına yazın:
phone-once = Bağlantı yalnızca bir kez, { $time } saatine kadar çalışır.
phone-private = Belge, bu bilgisayardan çıkmadan önce şifrelenir: belediyenin sunucusu onu okuyamaz. Anahtar yalnızca bu koddadır.
phone-still-erased = Belge, oturumunuzun sonuna kadar bu bilgisayarda da kalır, sonra silinir.
phone-back = Belgelerime dön
phone-error-off = Bu merkez telefonlara belge göndermiyor. Yazdırın ya da ekibe sorun.
phone-error-document = Bu belge artık yok. Listeye yeniden bakın.
phone-error-large = Bu belge bir telefon için çok büyük (en fazla 32 MB). Yazdırın ya da ekibe sorun.
phone-error-busy = Başka bir belge gönderiliyor. Biraz sonra yeniden deneyin.
phone-error-refused = Sunucu belgeyi saklayamadı. Birkaç dakika sonra yeniden deneyin ya da ekibe sorun.

## Copy to my USB stick

usb-copy-title = USB belleğime kopyala
usb-copy-explain = Belleğinizi takın, belgeleri işaretleyin, sonra düğmeye basın. Bilgisayar belleğinizde zaten olanları okumaz.
usb-copy-choose = Kopyalanacak belgeler
usb-copy-submit = USB belleğime kopyala
usb-done-title = Belgeler kopyalandı
usb-done-count = { $count ->
    [one] 1 belge USB belleğinize kopyalandı.
   *[other] { $count } belge USB belleğinize kopyalandı.
}
usb-done-remove = Belleğinizi çıkarabilirsiniz.
usb-none-chosen = En az bir belge işaretleyin.
usb-no-stick = Takılı USB bellek yok. Takın, birkaç saniye bekleyin, sonra yeniden deneyin.
usb-format = Bu bellek açılamadı (bilinmeyen biçim). Ekibe sorun.
usb-no-space = Belleğinizde bu belgeler için yeterli yer yok.
usb-failed = Kopyalama olmadı. Belleğinizi çıkarıp yeniden takın ve tekrar deneyin ya da ekibe sorun.

## Printing knowingly

print-title = Yazdırmalarınız
print-held = Siz onaylamadan yazıcıdan hiçbir şey çıkmaz.
print-job = Yazdırma no. { $job }
print-pages = Sayfa sayısı: { $pages }
print-uncounted = Sayfa sayısı sayılamadı.
print-left = Kalan ücretsiz sayfa: { $pages }
print-confirm = Yazdır
print-cancel = Bu yazdırmayı iptal et
print-beyond = Bu, ücretsiz sayfalarınızdan fazla. Bir görevli başlatabilir: danışmaya sorun.
print-staff = Bir görevli başlatabilir: danışmaya sorun.
print-error-staff = Bu yazdırma bir görevliyi bekliyor.
print-error-gone = Bu yazdırma artık beklemiyor.
print-error-failed = Yazıcı yanıt vermedi. Yeniden deneyin ya da danışmaya sorun.
