# Commune: the visitor's screens, in Russian. Machine-assisted translation: to be reviewed by a native speaker.

page-title = Компьютер в свободном доступе
skip-to-content = Перейти к содержанию
choose-language = Выберите язык
change-language = Сменить язык

## Welcome

welcome-title = Добро пожаловать
welcome-text = Этот компьютер нужен для оформления документов онлайн: CAF, медицинская страховка, налоги, вид на жительство, работа…
welcome-free = Это бесплатно.
welcome-start = Начать

## Charter (no time limit on this page)

charter-title = Условия пользования компьютером
charter-summary = Ваш сеанс — только ваш. В конце всё удаляется.
charter-recorded-title = Что компьютер записывает
charter-recorded-1 = Время начала и конца вашего сеанса.
charter-recorded-2 = Были ли вы одни или с консультантом.
charter-recorded-3 = Что в конце всё было удалено.
charter-not-recorded-title = Что компьютер никогда не записывает
charter-not-recorded-1 = Ваше имя.
charter-not-recorded-2 = Сайты, которые вы открываете.
charter-not-recorded-3 = То, что вы печатаете.
charter-not-recorded-4 = Ваши документы и пароли.
charter-rules-title = Правила
charter-rules-1 = Время вашего сеанса ограничено.
charter-rules-2 = Компьютер предупредит вас за 5 минут до конца, а потом за 1 минуту.
charter-rules-3 = В конце ваши документы удаляются. Чтобы сохранить их, запишите их на флешку или распечатайте.
charter-rules-4 = Не забудьте выйти из своих аккаунтов. Удаление в конце тоже это сделает.
charter-rules-5 = Уважайте других людей и берегите оборудование.
charter-help = Нужна помощь? Обратитесь к администратору.
charter-no-hurry = Не спешите: на этой странице нет ограничения по времени.
charter-accept = Понятно, продолжить

## Free access

start-title = Начать сеанс
start-length = Ваш сеанс длится { $minutes } мин.
start-until = Ваш сеанс может длиться до { $time }.
start-submit = Начать мой сеанс
ticket-text = Введите код с вашего талона. Код написан на листке, который вам дал администратор.
ticket-label = Код талона
ticket-hint = 8 букв и цифр. Например: K7MN-3XPA
ticket-none = Нет талона? Попросите его у администратора.

## Errors when opening a session

error-title = Ваш сеанс не начался
error-ticket-invalid = Это не код талона. В коде 8 букв и цифр. Проверьте и введите его ещё раз.
error-ticket-unknown = Этот талон здесь неизвестен. Проверьте код или обратитесь к администратору.
error-ticket-used = Этот талон уже использован. Попросите новый талон у администратора.
error-ticket-expired = Этот талон больше не действует. Попросите новый талон у администратора.
error-ticket-required = Нужен талон. Попросите его у администратора.
error-busy = На этом компьютере уже открыт сеанс.
error-wiping = Компьютер удаляет предыдущий сеанс. Попробуйте ещё раз чуть позже.
error-closed = Компьютер сейчас закрыт.
error-blocked = Компьютер не работает. Обратитесь к администратору.
error-supervised = Сейчас время приёма с консультантом: ваш консультант откроет вам сеанс.
error-pin = Неверный код консультанта.
error-too-many = Слишком много попыток. Подождите минуту и попробуйте ещё раз.
error-other = Компьютер не смог открыть ваш сеанс. Обратитесь к администратору.

## Supervised slot

supervised-title = Сеанс с консультантом
supervised-text = Ваш консультант откроет вам сеанс.
supervised-wait = Пожалуйста, подождите немного.
supervised-permanence = Приём: { $name }
mediator-title = Для консультанта
mediator-label = Код консультанта
mediator-submit = Открыть сеанс

## During the session

session-title = Ваш сеанс
session-time-left = Осталось времени
session-ends-at = Конец сеанса в { $time }.
session-no-limit = Без ограничения времени. Ваш консультант завершит сеанс вместе с вами.
session-supervised = Сеанс с консультантом.
warning-title = Внимание
warning-5 = Ваш сеанс закончится через 5 минут. Сохраните свои документы.
warning-1 = Ваш сеанс закончится через 1 минуту. Ваши документы будут удалены.
session-documents = Посмотреть мои документы
session-end-now = Закончить сеанс сейчас

## End of the session

end-title = Закончить сеанс
end-documents-title = Эти документы будут удалены
end-documents-none = У вас нет документов в папках «Téléchargements» (Загрузки) и «Numérisations» (Сканы).
end-keep-title = Чтобы сохранить документы
end-keep-usb = Запишите их на свою флешку.
end-keep-print = Распечатайте их.
end-keep-mail = Или отправьте их себе на электронную почту.
end-confirm = Да, закончить и всё удалить
end-back = Нет, вернуться к моему сеансу

erased-title = Ваш сеанс удалён
erased-text = Всё, что вы делали на этом компьютере, удалено. Следующий человек ничего не увидит.
erased-checked = Проверено. Число проверок: { $checks }. Ничего не найдено. Время проверки: { $seconds } сек.
erased-failed = Не удалось проверить удаление. Компьютер заблокирован. Сообщите администратору.
erased-thanks = Спасибо и хорошего дня!
erased-home = На главную страницу
wiping-title = Идёт удаление
wiping-text = Компьютер удаляет сеанс. Пожалуйста, подождите несколько секунд.

## Closed and blocked

closed-title = Компьютер закрыт
closed-reopens-today = Он снова откроется сегодня в { $time }.
closed-reopens-tomorrow = Он снова откроется завтра в { $time }.
closed-reopens-on = Он снова откроется { $date } в { $time }.
closed-unknown = Часы работы можно узнать у администратора.
closed-staff-message = Сообщение от администратора: { $message }
closed-ask = Если у вас есть вопросы, обратитесь к администратору в Maison des Habitants.
blocked-title = Компьютер не работает
blocked-text = Этим компьютером сейчас нельзя пользоваться.
blocked-ask = Обратитесь к администратору: возможно, свободен другой компьютер.
