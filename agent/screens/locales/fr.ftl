# Commune: the visitor's screens, in French. This is the reference language: every message
# exists here, written in plain language ("facile à lire et à comprendre", FALC): short
# sentences, one idea per line, common words, no abbreviations.
# Other languages fall back to this file for any message they lack.

page-title = Ordinateur en libre accès
skip-to-content = Aller au contenu
choose-language = Choisissez votre langue
change-language = Changer de langue

## Welcome

welcome-title = Bienvenue
welcome-text = Cet ordinateur est pour vos démarches en ligne : CAF, Assurance maladie, impôts, titre de séjour, emploi…
welcome-free = Il est gratuit.
welcome-start = Commencer

## Charter (no time limit on this page)

charter-title = La charte de l'ordinateur
charter-summary = Votre session est à vous seul. À la fin, tout est effacé.
charter-recorded-title = Ce que l'ordinateur enregistre
charter-recorded-1 = L'heure du début et de la fin de votre session.
charter-recorded-2 = Si vous étiez seul ou avec un médiateur.
charter-recorded-3 = Que tout a bien été effacé à la fin.
charter-not-recorded-title = Ce que l'ordinateur n'enregistre jamais
charter-not-recorded-1 = Votre nom.
charter-not-recorded-2 = Les sites que vous visitez.
charter-not-recorded-3 = Ce que vous tapez.
charter-not-recorded-4 = Vos documents et vos mots de passe.
charter-rules-title = Les règles
charter-rules-1 = Votre session dure un temps limité.
charter-rules-2 = L'ordinateur vous prévient 5 minutes avant la fin, puis 1 minute avant.
charter-rules-3 = À la fin, vos documents sont effacés. Pour les garder, mettez-les sur une clé USB ou imprimez-les.
charter-rules-3-no-usb = À la fin, vos documents sont effacés. Pour les garder, imprimez-les.
charter-rules-4 = Pensez à vous déconnecter de vos comptes. L'effacement le fait aussi.
charter-rules-5 = Respectez les autres personnes et le matériel.
charter-help = Besoin d'aide ? Demandez à l'accueil.
charter-no-hurry = Prenez votre temps : cette page n'a pas de limite de temps.
charter-accept = J'ai compris, je continue

## Free access

start-title = Ouvrir votre session
start-length = Votre session dure { $minutes } minutes.
start-until = Votre session peut durer jusqu'à { $time }.
start-submit = Ouvrir ma session
ticket-text = Tapez le code de votre ticket. Le code est sur le papier donné à l'accueil.
ticket-label = Code du ticket
ticket-hint = 8 lettres et chiffres. Par exemple : K7MN-3XPA
ticket-none = Pas de ticket ? Demandez-en un à l'accueil.

## Errors when opening a session

error-title = Votre session n'est pas ouverte
error-ticket-invalid = Ce code n'est pas un code de ticket. Un code a 8 lettres et chiffres. Vérifiez et tapez-le de nouveau.
error-ticket-unknown = Ce ticket n'est pas connu ici. Vérifiez le code, ou demandez à l'accueil.
error-ticket-used = Ce ticket a déjà servi. Demandez un nouveau ticket à l'accueil.
error-ticket-expired = Ce ticket n'est plus valable. Demandez un nouveau ticket à l'accueil.
error-ticket-required = Il faut un ticket. Demandez-en un à l'accueil.
error-busy = Une session est déjà ouverte sur cet ordinateur.
error-wiping = L'ordinateur efface la session précédente. Réessayez dans un instant.
error-closed = L'ordinateur est fermé en ce moment.
error-blocked = L'ordinateur est hors service. Demandez à l'accueil.
error-supervised = C'est l'heure d'une permanence : votre médiateur va ouvrir votre session.
error-pin = Ce code de médiateur n'est pas le bon.
error-too-many = Trop d'essais. Attendez une minute, puis réessayez.
error-other = L'ordinateur n'a pas pu ouvrir votre session. Demandez à l'accueil.

## Supervised slot

supervised-title = Session accompagnée
supervised-text = Votre médiateur va ouvrir votre session.
supervised-wait = Merci de patienter un instant.
supervised-permanence = Permanence : { $name }
mediator-title = Pour le médiateur
mediator-label = Code du médiateur
mediator-submit = Ouvrir la session

## During the session

session-title = Votre session
session-time-left = Temps restant
session-ends-at = Fin de la session à { $time }.
session-no-limit = Pas de limite de temps. Votre médiateur terminera la session avec vous.
session-supervised = Session accompagnée par un médiateur.
warning-title = Attention
warning-5 = Votre session se termine dans 5 minutes. Enregistrez vos documents.
warning-1 = Votre session se termine dans 1 minute. Vos documents vont être effacés.
session-documents = Voir mes documents
session-end-now = Terminer ma session maintenant

## End of the session

end-title = Terminer votre session
end-documents-title = Ces documents vont être effacés
end-documents-none = Vous n'avez pas de document dans « Téléchargements » ni dans « Numérisations ».
end-keep-title = Pour garder vos documents
end-keep-usb = Mettez-les sur votre clé USB.
end-keep-print = Imprimez-les.
end-keep-mail = Ou envoyez-les à votre adresse e-mail.
end-confirm = Oui, terminer et tout effacer
end-back = Non, revenir à ma session

erased-title = Votre session est effacée
erased-text = Tout ce que vous avez fait sur cet ordinateur est effacé. La personne suivante ne verra rien.
erased-checked = Vérifié : { $checks } contrôles sans rien trouver, en { $seconds } secondes.
erased-failed = L'effacement n'a pas pu être vérifié. L'ordinateur est bloqué. Prévenez l'accueil.
erased-thanks = Merci et bonne journée.
erased-home = Retour à l'accueil
wiping-title = Effacement en cours
wiping-text = L'ordinateur efface la session. Merci de patienter quelques secondes.

## Closed and blocked

closed-title = Ordinateur fermé
closed-reopens-today = Il ouvre de nouveau aujourd'hui à { $time }.
closed-reopens-tomorrow = Il ouvre de nouveau demain à { $time }.
closed-reopens-on = Il ouvre de nouveau le { $date } à { $time }.
closed-unknown = Les horaires sont affichés à l'accueil.
closed-staff-message = Message de l'accueil : { $message }
closed-ask = Pour toute question, demandez à l'accueil de la Maison des Habitants.
blocked-title = Ordinateur hors service
blocked-text = Cet ordinateur ne peut pas être utilisé pour le moment.
blocked-ask = Demandez à l'accueil : un autre ordinateur est peut-être libre.

## Device guard

checked-on = Cet ordinateur a été vérifié par l'équipe le { $date } à { $time }.
alarm-title = Ordinateur verrouillé par sécurité
alarm-text = Un clavier ou un autre appareil a été branché sur cet ordinateur depuis la dernière vérification. Personne ne peut l'utiliser avant qu'un membre de l'équipe l'ait vérifié.
alarm-no-password = Ne tapez aucun mot de passe ni code sur cet ordinateur.
alarm-ask = Prévenez l'accueil ou un médiateur. Un autre ordinateur est peut-être libre.
alarm-device = Appareil détecté :
alarm-staff-title = Pour l'équipe
alarm-staff-label = Code médiateur, après avoir vérifié le câble et le clavier
alarm-staff-submit = Appareils vérifiés : déverrouiller
error-device-alarm = Cet ordinateur est verrouillé par sécurité : un appareil a été branché. Prévenez l'accueil.

## Stepping away

away-title = M'absenter quelques minutes
away-explain = Vous allez chercher un papier ou une impression ? Verrouillez votre session avec un code que vous choisissez. Vous avez { $minutes } minutes pour revenir. Le temps de votre session continue de passer.
away-code-label = Choisissez un code (4 à 8 chiffres)
away-code-hint = Retenez-le : il faudra le taper pour reprendre votre session.
away-again-label = Tapez le même code encore une fois
away-submit = Verrouiller ma session
away-locked-title = Session verrouillée
away-locked-text = La personne qui utilise cet ordinateur s'est absentée quelques minutes. Sa session est verrouillée.
away-time-left = Temps pour revenir
away-until = Revenez avant { $time }.
away-erased-after = Sans retour à temps, ou après 5 codes faux, la session se termine et tout est effacé.
away-back-label = Votre code
away-back-submit = Reprendre ma session
away-tries-left = Essais restants : { $tries }.
away-error-wrong = Ce code n'est pas le bon.
away-error-mismatch = Les deux codes sont différents. Tapez deux fois le même code.
away-error-code = Choisissez un code de 4 à 8 chiffres.
away-error-off = Cet ordinateur ne permet pas de verrouiller la session.
away-error-late = Votre session se termine dans moins d'une minute : elle ne peut plus être verrouillée.
away-error-lock = Cet ordinateur ne peut pas verrouiller son écran : la session n'a pas été verrouillée. Restez près de l'ordinateur ou terminez votre session.

## USB sticks

usb-refused = Les clés USB ne sont pas autorisées sur les ordinateurs de cette Maison des Habitants : votre clé a été déconnectée, rien n'a été lu. Pour garder vos documents, imprimez-les ou demandez à l'accueil.

## Calling a mediator (the visitor chooses a need; nothing else is sent)

help-call = Appeler un médiateur
help-title = Appeler un médiateur
help-text = Un médiateur peut venir vous aider.
help-private = L'ordinateur envoie seulement votre choix. Il n'envoie jamais votre écran ni ce que vous tapez.
help-choose = Pourquoi avez-vous besoin d'aide ?
help-need-printing = Imprimer ou scanner
help-need-account = Un compte ou un mot de passe
help-need-form = Un formulaire
help-need-other = Autre chose
help-sent-title = Votre appel est envoyé
help-sent-text = Restez à votre place. Un médiateur va voir votre appel.
help-taken-title = Un médiateur arrive
help-taken-text = Un médiateur a pris votre appel. Il vient vous aider.
help-your-need = Votre demande :
help-cancel = Annuler mon appel
help-back = Revenir à ma session
help-error-too-soon = Vous venez d'appeler. Attendez 30 secondes, puis réessayez.
help-error-too-many = Vous avez déjà appelé plusieurs fois. Demandez à l'accueil.
help-error-other = L'appel n'est pas parti. Demandez à l'accueil.

## The wait

wait-title = Vous attendez un ordinateur ?
wait-free = Ordinateurs libres en ce moment : { $count }. Demandez à l'accueil.
wait-all-busy = Tous les ordinateurs sont occupés en ce moment.
wait-next = Le prochain devrait se libérer vers { $time }.
wait-reserved = Réservés pour une permanence :
wait-reserved-until = { $permanence }, jusqu'à { $time }

## Closing time

closing-title = La Maison des Habitants ferme bientôt
closing-at = Fermeture à { $time } : les sessions se terminent à cette heure-là. Enregistrez vos documents avant.

## Send to my phone

phone-send = Envoyer sur mon téléphone
phone-offline = L'envoi vers un téléphone n'est pas possible en ce moment (réseau). Demandez à l'équipe.
phone-sent-title = Envoyés sur votre téléphone
phone-until = lien valable jusqu'à { $time }
phone-show-again = Revoir le dernier code
end-keep-phone = Envoyez-les sur votre téléphone : un code à scanner, sans compte ni mot de passe.
phone-title = Votre document sur votre téléphone
phone-qr-label = Code QR du lien vers votre document
phone-scan = Scannez ce code avec l'appareil photo de votre téléphone : le document s'ouvre dans son navigateur.
phone-link-label = Ou tapez cette adresse dans le navigateur de votre téléphone :
phone-once = Le lien sert une seule fois, jusqu'à { $time }.
phone-private = Le document est chiffré sur cet ordinateur avant de partir : le serveur de la ville ne peut pas le lire. La clé n'est que dans ce code.
phone-still-erased = Le document reste aussi sur cet ordinateur jusqu'à la fin de votre session, puis il est effacé.
phone-back = Retour à mes documents
phone-error-off = Cette Maison des Habitants n'envoie pas de documents vers les téléphones. Imprimez-les ou demandez à l'équipe.
phone-error-document = Ce document n'est plus là. Revoyez la liste.
phone-error-large = Ce document est trop gros pour un téléphone (32 Mo au plus). Imprimez-le ou demandez à l'équipe.
phone-error-busy = Un autre document est en cours d'envoi. Réessayez dans un instant.
phone-error-refused = Le serveur n'a pas pu garder le document. Réessayez dans quelques minutes ou demandez à l'équipe.

## Copy to my USB stick

usb-copy-title = Copier sur ma clé USB
usb-copy-explain = Branchez votre clé, cochez les documents, puis appuyez sur le bouton. L'ordinateur ne lit pas ce qu'il y a déjà sur votre clé.
usb-copy-choose = Documents à copier
usb-copy-submit = Copier sur ma clé USB
usb-done-title = Documents copiés
usb-done-count = { $count ->
    [one] 1 document copié sur votre clé USB.
   *[other] { $count } documents copiés sur votre clé USB.
}
usb-done-remove = Vous pouvez retirer votre clé.
usb-none-chosen = Cochez au moins un document.
usb-no-stick = Aucune clé USB n'est branchée. Branchez-la, attendez quelques secondes, puis réessayez.
usb-format = Cette clé n'a pas pu être ouverte (format non reconnu). Demandez à l'équipe.
usb-no-space = Il n'y a pas assez de place sur votre clé pour ces documents.
usb-failed = La copie n'a pas marché. Retirez votre clé, rebranchez-la et réessayez, ou demandez à l'équipe.

## Printing knowingly

print-title = Vos impressions
print-held = Rien ne sort de l'imprimante avant votre accord.
print-job = Impression n° { $job }
print-pages = Nombre de pages : { $pages }
print-uncounted = Le nombre de pages n'a pas pu être compté.
print-left = Pages gratuites restantes : { $pages }
print-confirm = Imprimer
print-cancel = Annuler cette impression
print-beyond = C'est plus que vos pages gratuites. Un membre de l'équipe peut la lancer : demandez à l'accueil.
print-staff = Un membre de l'équipe peut la lancer : demandez à l'accueil.
print-error-staff = Cette impression attend un membre de l'équipe.
print-error-gone = Cette impression n'attend plus.
print-error-failed = L'imprimante n'a pas répondu. Réessayez ou demandez à l'accueil.
