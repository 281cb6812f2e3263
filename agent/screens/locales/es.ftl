# Commune: the visitor's screens, in Spanish. Machine-assisted translation: to be reviewed by a native speaker.

page-title = Ordenador de libre acceso
skip-to-content = Ir al contenido
choose-language = Elija su idioma
change-language = Cambiar de idioma

## Welcome

welcome-title = Le damos la bienvenida
welcome-text = Este ordenador es para sus trámites en línea: CAF, seguro de salud, impuestos, permiso de residencia, empleo…
welcome-free = Es gratis.
welcome-start = Empezar

## Charter (no time limit on this page)

charter-title = La carta de uso del ordenador
charter-summary = Su sesión es solo para usted. Al final, todo se borra.
charter-recorded-title = Lo que el ordenador guarda
charter-recorded-1 = La hora de inicio y de fin de su sesión.
charter-recorded-2 = Si estaba solo o con un mediador.
charter-recorded-3 = Que todo se borró bien al final.
charter-not-recorded-title = Lo que el ordenador nunca guarda
charter-not-recorded-1 = Su nombre.
charter-not-recorded-2 = Las páginas web que visita.
charter-not-recorded-3 = Lo que escribe.
charter-not-recorded-4 = Sus documentos y sus contraseñas.
charter-rules-title = Las normas
charter-rules-1 = Su sesión tiene un tiempo limitado.
charter-rules-2 = El ordenador le avisa 5 minutos antes del final y después 1 minuto antes.
charter-rules-3 = Al final, sus documentos se borran. Para guardarlos, póngalos en una memoria USB o imprímalos.
charter-rules-3-no-usb = Al final, sus documentos se borran. Para guardarlos, imprímalos.
charter-rules-4 = Recuerde cerrar la sesión de sus cuentas. El borrado también lo hace.
charter-rules-5 = Respete a las demás personas y el material.
charter-help = ¿Necesita ayuda? Pregunte en la recepción.
charter-no-hurry = Tómese su tiempo: esta página no tiene límite de tiempo.
charter-accept = Lo he entendido, continúo

## Free access

start-title = Abrir su sesión
start-length = Su sesión dura { $minutes } minutos.
start-until = Su sesión puede durar hasta las { $time }.
start-submit = Abrir mi sesión
ticket-text = Escriba el código de su ticket. El código está en el papel que le dieron en la recepción.
ticket-label = Código del ticket
ticket-hint = 8 letras y números. Por ejemplo: K7MN-3XPA
ticket-none = ¿No tiene ticket? Pida uno en la recepción.

## Errors when opening a session

error-title = Su sesión no se ha abierto
error-ticket-invalid = Este código no es un código de ticket. Un código tiene 8 letras y números. Revíselo y escríbalo otra vez.
error-ticket-unknown = Este ticket no se conoce aquí. Revise el código o pregunte en la recepción.
error-ticket-used = Este ticket ya se ha usado. Pida un ticket nuevo en la recepción.
error-ticket-expired = Este ticket ya no es válido. Pida un ticket nuevo en la recepción.
error-ticket-required = Necesita un ticket. Pida uno en la recepción.
error-busy = Ya hay una sesión abierta en este ordenador.
error-wiping = El ordenador está borrando la sesión anterior. Vuelva a intentarlo en un momento.
error-closed = El ordenador está cerrado en este momento.
error-blocked = El ordenador está fuera de servicio. Pregunte en la recepción.
error-supervised = Ahora es la hora de la atención con mediador: su mediador va a abrir su sesión.
error-pin = Este código de mediador no es correcto.
error-too-many = Demasiados intentos. Espere un minuto y vuelva a intentarlo.
error-other = El ordenador no ha podido abrir su sesión. Pregunte en la recepción.

## Supervised slot

supervised-title = Sesión acompañada
supervised-text = Su mediador va a abrir su sesión.
supervised-wait = Por favor, espere un momento.
supervised-permanence = Atención con mediador: { $name }
mediator-title = Para el mediador
mediator-label = Código del mediador
mediator-submit = Abrir la sesión

## During the session

session-title = Su sesión
session-time-left = Tiempo restante
session-ends-at = Fin de la sesión a las { $time }.
session-no-limit = Sin límite de tiempo. Su mediador terminará la sesión con usted.
session-supervised = Sesión acompañada por un mediador.
warning-title = Atención
warning-5 = Su sesión termina en 5 minutos. Guarde sus documentos.
warning-1 = Su sesión termina en 1 minuto. Sus documentos se van a borrar.
session-documents = Ver mis documentos
session-end-now = Terminar mi sesión ahora

## End of the session

end-title = Terminar su sesión
end-documents-title = Estos documentos se van a borrar
end-documents-none = No tiene documentos en «Téléchargements» (Descargas) ni en «Numérisations» (Escaneos).
end-keep-title = Para guardar sus documentos
end-keep-usb = Póngalos en su memoria USB.
end-keep-print = Imprímalos.
end-keep-mail = O envíelos a su dirección de correo electrónico.
end-confirm = Sí, terminar y borrar todo
end-back = No, volver a mi sesión

erased-title = Su sesión se ha borrado
erased-text = Todo lo que hizo en este ordenador se ha borrado. La próxima persona no verá nada.
erased-checked = Comprobado: { $checks } controles sin encontrar nada, en { $seconds } segundos.
erased-failed = No se ha podido comprobar el borrado. El ordenador está bloqueado. Avise en la recepción.
erased-thanks = Gracias y que tenga un buen día.
erased-home = Volver al inicio
wiping-title = Borrando
wiping-text = El ordenador está borrando la sesión. Por favor, espere unos segundos.

## Closed and blocked

closed-title = Ordenador cerrado
closed-reopens-today = Vuelve a abrir hoy a las { $time }.
closed-reopens-tomorrow = Vuelve a abrir mañana a las { $time }.
closed-reopens-on = Vuelve a abrir el { $date } a las { $time }.
closed-unknown = Los horarios están en la recepción.
closed-staff-message = Mensaje de la recepción: { $message }
closed-ask = Si tiene alguna pregunta, pregunte en la recepción de la Maison des Habitants.
blocked-title = Ordenador fuera de servicio
blocked-text = Este ordenador no se puede usar por ahora.
blocked-ask = Pregunte en la recepción: quizás hay otro ordenador libre.

## Device guard

checked-on = El personal revisó este ordenador el { $date } a las { $time }.
alarm-title = Ordenador bloqueado por seguridad
alarm-text = Se ha conectado un teclado u otro aparato a este ordenador desde la última revisión. Nadie puede usarlo hasta que alguien del personal lo revise.
alarm-no-password = No escriba ninguna contraseña ni ningún código en este ordenador.
alarm-ask = Avise en la recepción o a un mediador. Quizás hay otro ordenador libre.
alarm-device = Aparato detectado:
alarm-staff-title = Para el personal
alarm-staff-label = Código de mediador, después de revisar el cable y el teclado
alarm-staff-submit = Aparatos revisados: desbloquear
error-device-alarm = Este ordenador está bloqueado por seguridad: se ha conectado un aparato. Avise en la recepción.

## Stepping away

away-title = Ausentarme unos minutos
away-explain = ¿Va a buscar un papel o una impresión? Bloquee su sesión con un código que usted elige. Tiene { $minutes } minutos para volver. El tiempo de su sesión sigue corriendo.
away-code-label = Elija un código (de 4 a 8 números)
away-code-hint = Recuérdelo: tendrá que escribirlo para volver a su sesión.
away-again-label = Escriba el mismo código otra vez
away-submit = Bloquear mi sesión
away-locked-title = Sesión bloqueada
away-locked-text = La persona que usa este ordenador se ha ausentado unos minutos. Su sesión está bloqueada.
away-time-left = Tiempo para volver
away-until = Vuelva antes de las { $time }.
away-erased-after = Si la persona no vuelve a tiempo, o después de 5 códigos incorrectos, la sesión termina y todo se borra.
away-back-label = Su código
away-back-submit = Volver a mi sesión
away-tries-left = Intentos restantes: { $tries }.
away-error-wrong = Este código no es correcto.
away-error-mismatch = Los dos códigos son diferentes. Escriba dos veces el mismo código.
away-error-code = Elija un código de 4 a 8 números.
away-error-off = Este ordenador no permite bloquear la sesión.
away-error-late = Su sesión termina en menos de un minuto: ya no se puede bloquear.
away-error-lock = Este ordenador no puede bloquear su pantalla: su sesión no se ha bloqueado. Quédese cerca del ordenador o termine su sesión.

## USB sticks

usb-refused = Las memorias USB no están permitidas en los ordenadores de este centro: su memoria se ha desconectado y no se ha leído nada. Para guardar sus documentos, imprímalos o pregunte en la recepción.

## Llamar a un mediador

help-call = Llamar a un mediador
help-title = Llamar a un mediador
help-text = Un mediador puede venir a ayudarle.
help-private = El ordenador solo envía su elección. Nunca envía su pantalla ni lo que usted escribe.
help-choose = ¿Para qué necesita ayuda?
help-need-printing = Imprimir o escanear
help-need-account = Una cuenta o una contraseña
help-need-form = Un formulario
help-need-other = Otra cosa
help-sent-title = Su llamada se ha enviado
help-sent-text = Quédese en su sitio. Un mediador verá su llamada.
help-taken-title = Un mediador viene
help-taken-text = Un mediador ha recibido su llamada y viene a ayudarle.
help-your-need = Su petición:
help-cancel = Cancelar mi llamada
help-back = Volver a mi sesión
help-error-too-soon = Acaba de llamar. Espere 30 segundos y vuelva a intentarlo.
help-error-too-many = Ya ha llamado varias veces. Pregunte en la recepción.
help-error-other = La llamada no se ha enviado. Pregunte en la recepción.

## The wait

wait-title = ¿Espera un ordenador?
wait-free = Ordenadores libres ahora: { $count }. Pregunte en la recepción.
wait-all-busy = Todos los ordenadores están ocupados ahora.
wait-next = El próximo debería quedar libre hacia las { $time }.
wait-reserved = Reservados para una atención con mediador:
wait-reserved-until = { $permanence }, hasta las { $time }

## Closing time

closing-title = El centro cierra pronto
closing-at = Cierre a las { $time }: las sesiones terminan a esa hora. Guarde sus documentos antes.

## Send to my phone

phone-send = Enviar a mi teléfono
phone-offline = No se puede enviar a un teléfono en este momento (red). Pregunte al equipo.
phone-sent-title = Enviados a su teléfono
phone-until = enlace válido hasta las { $time }
phone-show-again = Ver de nuevo el último código
end-keep-phone = Envíelos a su teléfono: un código para escanear, sin cuenta ni contraseña.
phone-title = Su documento en su teléfono
phone-qr-label = Código QR del enlace a su documento
phone-scan = Escanee este código con la cámara de su teléfono: el documento se abre en su navegador.
phone-link-label = O escriba esta dirección en el navegador de su teléfono:
phone-once = El enlace sirve una sola vez, hasta las { $time }.
phone-private = El documento se cifra en este ordenador antes de salir: el servidor de la ciudad no puede leerlo. La clave solo está en este código.
phone-still-erased = El documento también queda en este ordenador hasta el final de su sesión; después se borra.
phone-back = Volver a mis documentos
phone-error-off = Este centro no envía documentos a los teléfonos. Imprímalos o pregunte al equipo.
phone-error-document = Este documento ya no está. Vuelva a mirar la lista.
phone-error-large = Este documento es demasiado grande para un teléfono (32 MB como máximo). Imprímalo o pregunte al equipo.
phone-error-busy = Se está enviando otro documento. Inténtelo de nuevo en un momento.
phone-error-refused = El servidor no pudo guardar el documento. Inténtelo de nuevo en unos minutos o pregunte al equipo.

## Copy to my USB stick

usb-copy-title = Copiar en mi memoria USB
usb-copy-explain = Conecte su memoria, marque los documentos y pulse el botón. El ordenador no lee lo que ya hay en su memoria.
usb-copy-choose = Documentos para copiar
usb-copy-submit = Copiar en mi memoria USB
usb-done-title = Documentos copiados
usb-done-count = { $count ->
    [one] 1 documento copiado en su memoria USB.
   *[other] { $count } documentos copiados en su memoria USB.
}
usb-done-remove = Puede retirar su memoria.
usb-none-chosen = Marque al menos un documento.
usb-no-stick = No hay ninguna memoria USB conectada. Conéctela, espere unos segundos e inténtelo de nuevo.
usb-format = No se pudo abrir esta memoria (formato desconocido). Pregunte al equipo.
usb-no-space = No hay espacio suficiente en su memoria para estos documentos.
usb-failed = La copia no funcionó. Retire su memoria, vuelva a conectarla e inténtelo de nuevo, o pregunte al equipo.

## Printing knowingly

print-title = Sus impresiones
print-held = Nada sale de la impresora antes de que usted lo acepte.
print-job = Impresión n.º { $job }
print-pages = Número de páginas: { $pages }
print-uncounted = No se pudo contar el número de páginas.
print-left = Páginas gratuitas restantes: { $pages }
print-confirm = Imprimir
print-cancel = Cancelar esta impresión
print-beyond = Son más páginas que sus páginas gratuitas. Un miembro del personal puede lanzarla: pregunte en la recepción.
print-staff = Un miembro del personal puede lanzarla: pregunte en la recepción.
print-error-staff = Esta impresión espera a un miembro del personal.
print-error-gone = Esta impresión ya no está en espera.
print-error-failed = La impresora no respondió. Vuelva a intentarlo o pregunte en la recepción.
