# Commune: the visitor's screens, in English. Machine-assisted translation: to be reviewed by a native speaker.

page-title = Public computer
skip-to-content = Go to the content
choose-language = Choose your language
change-language = Change language

## Welcome

welcome-title = Welcome
welcome-text = This computer is for your online procedures: CAF, health insurance, taxes, residence permit, work…
welcome-free = It is free.
welcome-start = Start

## Charter (no time limit on this page)

charter-title = The computer charter
charter-summary = Your session is only for you. At the end, everything is deleted.
charter-recorded-title = What the computer records
charter-recorded-1 = The time your session starts and ends.
charter-recorded-2 = If you were alone or with a helper.
charter-recorded-3 = That everything was deleted at the end.
charter-not-recorded-title = What the computer never records
charter-not-recorded-1 = Your name.
charter-not-recorded-2 = The websites you visit.
charter-not-recorded-3 = What you type.
charter-not-recorded-4 = Your documents and your passwords.
charter-rules-title = The rules
charter-rules-1 = Your session has a time limit.
charter-rules-2 = The computer warns you 5 minutes before the end, then 1 minute before.
charter-rules-3 = At the end, your documents are deleted. To keep them, put them on a USB stick or print them.
charter-rules-3-no-usb = At the end, your documents are deleted. To keep them, print them.
charter-rules-4 = Remember to log out of your accounts. The deletion does it too.
charter-rules-5 = Respect other people and the equipment.
charter-help = Need help? Ask at the front desk.
charter-no-hurry = Take your time: this page has no time limit.
charter-accept = I understand, continue

## Free access

start-title = Start your session
start-length = Your session lasts { $minutes } minutes.
start-until = Your session can last until { $time }.
start-submit = Start my session
ticket-text = Type the code on your ticket. The code is on the paper you got at the front desk.
ticket-label = Ticket code
ticket-hint = 8 letters and numbers. For example: K7MN-3XPA
ticket-none = No ticket? Ask for one at the front desk.

## Errors when opening a session

error-title = Your session did not start
error-ticket-invalid = This is not a ticket code. A code has 8 letters and numbers. Check it and type it again.
error-ticket-unknown = This ticket is not known here. Check the code, or ask at the front desk.
error-ticket-used = This ticket has already been used. Ask for a new ticket at the front desk.
error-ticket-expired = This ticket is no longer valid. Ask for a new ticket at the front desk.
error-ticket-required = You need a ticket. Ask for one at the front desk.
error-busy = A session is already open on this computer.
error-wiping = The computer is deleting the last session. Try again in a moment.
error-closed = The computer is closed right now.
error-blocked = The computer is out of order. Ask at the front desk.
error-supervised = It is time for a help session: your helper will start your session.
error-pin = This helper code is not right.
error-too-many = Too many tries. Wait one minute, then try again.
error-other = The computer could not start your session. Ask at the front desk.

## Supervised slot

supervised-title = Session with a helper
supervised-text = Your helper will start your session.
supervised-wait = Please wait a moment.
supervised-permanence = Help session: { $name }
mediator-title = For the helper
mediator-label = Helper code
mediator-submit = Start the session

## During the session

session-title = Your session
session-time-left = Time left
session-ends-at = Your session ends at { $time }.
session-no-limit = No time limit. Your helper will end the session with you.
session-supervised = Session with a helper.
warning-title = Warning
warning-5 = Your session ends in 5 minutes. Save your documents.
warning-1 = Your session ends in 1 minute. Your documents will be deleted.
session-documents = See my documents
session-end-now = End my session now

## End of the session

end-title = End your session
end-documents-title = These documents will be deleted
end-documents-none = You have no documents in “Téléchargements” (Downloads) or in “Numérisations” (Scans).
end-keep-title = To keep your documents
end-keep-usb = Put them on your USB stick.
end-keep-print = Print them.
end-keep-mail = Or send them to your e-mail address.
end-confirm = Yes, end and delete everything
end-back = No, go back to my session

erased-title = Your session is deleted
erased-text = Everything you did on this computer is deleted. The next person will see nothing.
erased-checked = Checked: { $checks } checks, nothing found, in { $seconds } seconds.
erased-failed = The deletion could not be checked. The computer is locked. Tell the front desk.
erased-thanks = Thank you and have a nice day.
erased-home = Back to the start page
wiping-title = Deleting
wiping-text = The computer is deleting the session. Please wait a few seconds.

## Closed and blocked

closed-title = Computer closed
closed-reopens-today = It opens again today at { $time }.
closed-reopens-tomorrow = It opens again tomorrow at { $time }.
closed-reopens-on = It opens again on { $date } at { $time }.
closed-unknown = The opening hours are on display at the front desk.
closed-staff-message = Message from the front desk: { $message }
closed-ask = If you have a question, ask at the front desk of the Maison des Habitants.
blocked-title = Computer out of order
blocked-text = This computer cannot be used right now.
blocked-ask = Ask at the front desk: another computer may be free.

## Device guard

checked-on = This computer was checked by the staff on { $date } at { $time }.
alarm-title = Computer locked for safety
alarm-text = A keyboard or another device was plugged into this computer since the last check. No one can use it until a staff member has checked it.
alarm-no-password = Do not type any password or code on this computer.
alarm-ask = Tell the front desk or a helper. Another computer may be free.
alarm-device = Device found:
alarm-staff-title = For staff
alarm-staff-label = Helper code, after checking the cable and the keyboard
alarm-staff-submit = Devices checked: unlock
error-device-alarm = This computer is locked for safety: a device was plugged in. Tell the front desk.

## Stepping away

away-title = Step away for a few minutes
away-explain = Do you need to get a paper or a printout? Lock your session with a code you choose. You have { $minutes } minutes to come back. The time of your session keeps running.
away-code-label = Choose a code (4 to 8 numbers)
away-code-hint = Remember it: you will need to type it to go back to your session.
away-again-label = Type the same code again
away-submit = Lock my session
away-locked-title = Session locked
away-locked-text = The person using this computer has stepped away for a few minutes. Their session is locked.
away-time-left = Time to come back
away-until = Come back before { $time }.
away-erased-after = If the person is not back in time, or after 5 wrong codes, the session ends and everything is deleted.
away-back-label = Your code
away-back-submit = Go back to my session
away-tries-left = Tries left: { $tries }.
away-error-wrong = This code is not right.
away-error-mismatch = The two codes are different. Type the same code twice.
away-error-code = Choose a code with 4 to 8 numbers.
away-error-off = This computer cannot lock the session.
away-error-late = Your session ends in less than one minute: it can no longer be locked.
away-error-lock = This computer cannot lock its screen: your session was not locked. Stay near the computer or end your session.

## USB sticks

usb-refused = USB sticks are not allowed on this centre's computers: your stick was disconnected and nothing on it was read. To keep your documents, print them or ask at the front desk.

## Calling a mediator

help-call = Call a helper
help-title = Call a helper
help-text = A helper can come and help you.
help-private = The computer only sends your choice. It never sends your screen or what you type.
help-choose = What do you need help with?
help-need-printing = Printing or scanning
help-need-account = An account or a password
help-need-form = A form
help-need-other = Something else
help-sent-title = Your call has been sent
help-sent-text = Stay at your seat. A helper will see your call.
help-taken-title = A helper is coming
help-taken-text = A helper has taken your call and is coming to help you.
help-your-need = You asked for:
help-cancel = Cancel my call
help-back = Back to my session
help-error-too-soon = You have just called. Wait 30 seconds, then try again.
help-error-too-many = You have already called several times. Ask at the front desk.
help-error-other = The call did not go through. Ask at the front desk.

## The wait

wait-title = Waiting for a computer?
wait-free = Computers free right now: { $count }. Ask at the front desk.
wait-all-busy = All computers are busy right now.
wait-next = The next one should be free at about { $time }.
wait-reserved = Reserved for a help session:
wait-reserved-until = { $permanence }, until { $time }

## Closing time

closing-title = The centre closes soon
closing-at = Closing at { $time }: sessions end then. Save your documents before.

## Send to my phone

phone-send = Send to my phone
phone-offline = Sending to a phone is not possible right now (network). Ask the staff.
phone-sent-title = Sent to your phone
phone-until = link valid until { $time }
phone-show-again = Show the last code again
end-keep-phone = Send them to your phone: a code to scan, no account or password.
phone-title = Your document on your phone
phone-qr-label = QR code of the link to your document
phone-scan = Scan this code with your phone's camera: the document opens in its browser.
phone-link-label = Or type this address in your phone's browser:
phone-once = The link works once, until { $time }.
phone-private = The document is encrypted on this computer before it leaves: the city's server cannot read it. The key is only in this code.
phone-still-erased = The document also stays on this computer until the end of your session, then it is erased.
phone-back = Back to my documents
phone-error-off = This centre does not send documents to phones. Print them or ask the staff.
phone-error-document = This document is no longer there. Look at the list again.
phone-error-large = This document is too large for a phone (32 MB at most). Print it or ask the staff.
phone-error-busy = Another document is being sent. Try again in a moment.
phone-error-refused = The server could not keep the document. Try again in a few minutes or ask the staff.

## Copy to my USB stick

usb-copy-title = Copy to my USB stick
usb-copy-explain = Plug in your stick, tick the documents, then press the button. The computer does not read what is already on your stick.
usb-copy-choose = Documents to copy
usb-copy-submit = Copy to my USB stick
usb-done-title = Documents copied
usb-done-count = { $count ->
    [one] 1 document copied to your USB stick.
   *[other] { $count } documents copied to your USB stick.
}
usb-done-remove = You can remove your stick.
usb-none-chosen = Tick at least one document.
usb-no-stick = No USB stick is plugged in. Plug it in, wait a few seconds, then try again.
usb-format = This stick could not be opened (unknown format). Ask the staff.
usb-no-space = There is not enough room on your stick for these documents.
usb-failed = The copy did not work. Remove your stick, plug it in again and retry, or ask the staff.

## Printing knowingly

print-title = Your printing
print-held = Nothing comes out of the printer before you agree.
print-job = Print job no. { $job }
print-pages = Number of pages: { $pages }
print-uncounted = The number of pages could not be counted.
print-left = Free pages left: { $pages }
print-confirm = Print
print-cancel = Cancel this print job
print-beyond = This is more than your free pages. A staff member can start it: ask at the desk.
print-staff = A staff member can start it: ask at the desk.
print-error-staff = This print job is waiting for a staff member.
print-error-gone = This print job is no longer waiting.
print-error-failed = The printer did not answer. Try again or ask at the desk.
