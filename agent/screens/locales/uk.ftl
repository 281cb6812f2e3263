# Commune: the visitor's screens, in Ukrainian. Machine-assisted translation: to be reviewed by a native speaker.

page-title = Комп’ютер у вільному доступі
skip-to-content = Перейти до вмісту
choose-language = Оберіть мову
change-language = Змінити мову

## Welcome

welcome-title = Ласкаво просимо
welcome-text = Цей комп’ютер потрібен для оформлення документів онлайн: CAF, медичне страхування, податки, посвідка на проживання, робота…
welcome-free = Це безкоштовно.
welcome-start = Почати

## Charter (no time limit on this page)

charter-title = Умови користування комп’ютером
charter-summary = Ваш сеанс — тільки ваш. Наприкінці все видаляється.
charter-recorded-title = Що комп’ютер записує
charter-recorded-1 = Час початку і кінця вашого сеансу.
charter-recorded-2 = Чи були ви самі, чи з консультантом.
charter-recorded-3 = Що наприкінці все було видалено.
charter-not-recorded-title = Що комп’ютер ніколи не записує
charter-not-recorded-1 = Ваше ім’я.
charter-not-recorded-2 = Сайти, які ви відкриваєте.
charter-not-recorded-3 = Те, що ви друкуєте.
charter-not-recorded-4 = Ваші документи та паролі.
charter-rules-title = Правила
charter-rules-1 = Час вашого сеансу обмежений.
charter-rules-2 = Комп’ютер попередить вас за 5 хвилин до кінця, а потім за 1 хвилину.
charter-rules-3 = Наприкінці ваші документи видаляються. Щоб зберегти їх, запишіть їх на флешку або роздрукуйте.
charter-rules-4 = Не забудьте вийти зі своїх акаунтів. Видалення наприкінці теж це зробить.
charter-rules-5 = Поважайте інших людей і бережіть обладнання.
charter-help = Потрібна допомога? Зверніться до адміністратора.
charter-no-hurry = Не поспішайте: на цій сторінці немає обмеження часу.
charter-accept = Зрозуміло, продовжити

## Free access

start-title = Почати сеанс
start-length = Ваш сеанс триває { $minutes } хв.
start-until = Ваш сеанс може тривати до { $time }.
start-submit = Почати мій сеанс
ticket-text = Введіть код із вашого талона. Код написаний на папірці, який вам дав адміністратор.
ticket-label = Код талона
ticket-hint = 8 літер і цифр. Наприклад: K7MN-3XPA
ticket-none = Немає талона? Попросіть його в адміністратора.

## Errors when opening a session

error-title = Ваш сеанс не розпочався
error-ticket-invalid = Це не код талона. У коді 8 літер і цифр. Перевірте й введіть його ще раз.
error-ticket-unknown = Цей талон тут невідомий. Перевірте код або зверніться до адміністратора.
error-ticket-used = Цей талон уже використано. Попросіть новий талон в адміністратора.
error-ticket-expired = Цей талон більше не дійсний. Попросіть новий талон в адміністратора.
error-ticket-required = Потрібен талон. Попросіть його в адміністратора.
error-busy = На цьому комп’ютері вже відкрито сеанс.
error-wiping = Комп’ютер видаляє попередній сеанс. Спробуйте ще раз трохи пізніше.
error-closed = Комп’ютер зараз закритий.
error-blocked = Комп’ютер не працює. Зверніться до адміністратора.
error-supervised = Зараз час прийому з консультантом: ваш консультант відкриє вам сеанс.
error-pin = Неправильний код консультанта.
error-too-many = Забагато спроб. Зачекайте хвилину, а потім спробуйте ще раз.
error-other = Комп’ютер не зміг відкрити ваш сеанс. Зверніться до адміністратора.

## Supervised slot

supervised-title = Сеанс із консультантом
supervised-text = Ваш консультант відкриє вам сеанс.
supervised-wait = Будь ласка, трохи зачекайте.
supervised-permanence = Прийом: { $name }
mediator-title = Для консультанта
mediator-label = Код консультанта
mediator-submit = Відкрити сеанс

## During the session

session-title = Ваш сеанс
session-time-left = Залишилося часу
session-ends-at = Кінець сеансу о { $time }.
session-no-limit = Без обмеження часу. Ваш консультант завершить сеанс разом із вами.
session-supervised = Сеанс із консультантом.
warning-title = Увага
warning-5 = Ваш сеанс закінчиться через 5 хвилин. Збережіть свої документи.
warning-1 = Ваш сеанс закінчиться через 1 хвилину. Ваші документи буде видалено.
session-documents = Переглянути мої документи
session-end-now = Завершити сеанс зараз

## End of the session

end-title = Завершити сеанс
end-documents-title = Ці документи буде видалено
end-documents-none = У вас немає документів у папках «Téléchargements» (Завантаження) і «Numérisations» (Скани).
end-keep-title = Щоб зберегти документи
end-keep-usb = Запишіть їх на свою флешку.
end-keep-print = Роздрукуйте їх.
end-keep-mail = Або надішліть їх собі на електронну пошту.
end-confirm = Так, завершити й усе видалити
end-back = Ні, повернутися до мого сеансу

erased-title = Ваш сеанс видалено
erased-text = Усе, що ви робили на цьому комп’ютері, видалено. Наступна людина нічого не побачить.
erased-checked = Перевірено. Кількість перевірок: { $checks }. Нічого не знайдено. Час перевірки: { $seconds } с.
erased-failed = Не вдалося перевірити видалення. Комп’ютер заблоковано. Повідомте адміністратора.
erased-thanks = Дякуємо і гарного дня!
erased-home = На головну сторінку
wiping-title = Триває видалення
wiping-text = Комп’ютер видаляє сеанс. Будь ласка, зачекайте кілька секунд.

## Closed and blocked

closed-title = Комп’ютер закритий
closed-reopens-today = Він знову відкриється сьогодні о { $time }.
closed-reopens-tomorrow = Він знову відкриється завтра о { $time }.
closed-reopens-on = Він знову відкриється { $date } о { $time }.
closed-unknown = Години роботи можна дізнатися в адміністратора.
closed-staff-message = Повідомлення від адміністратора: { $message }
closed-ask = Якщо маєте запитання, зверніться до адміністратора в Maison des Habitants.
blocked-title = Комп’ютер не працює
blocked-text = Цим комп’ютером зараз не можна користуватися.
blocked-ask = Зверніться до адміністратора: можливо, вільний інший комп’ютер.
