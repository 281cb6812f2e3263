# Commune: the visitor's screens, in Portuguese. Machine-assisted translation: to be reviewed by a native speaker.

page-title = Computador de acesso livre
skip-to-content = Ir para o conteúdo
choose-language = Escolha a sua língua
change-language = Mudar de língua

## Welcome

welcome-title = Bem-vindo
welcome-text = Este computador serve para tratar dos seus assuntos online: CAF, seguro de saúde, impostos, autorização de residência, emprego…
welcome-free = É gratuito.
welcome-start = Começar

## Charter (no time limit on this page)

charter-title = A carta de utilização do computador
charter-summary = A sua sessão é só sua. No fim, tudo é apagado.
charter-recorded-title = O que o computador guarda
charter-recorded-1 = A hora de início e de fim da sua sessão.
charter-recorded-2 = Se estava sozinho ou com um mediador.
charter-recorded-3 = Que tudo foi bem apagado no fim.
charter-not-recorded-title = O que o computador nunca guarda
charter-not-recorded-1 = O seu nome.
charter-not-recorded-2 = Os sites que visita.
charter-not-recorded-3 = O que escreve.
charter-not-recorded-4 = Os seus documentos e as suas palavras-passe.
charter-rules-title = As regras
charter-rules-1 = A sua sessão tem um tempo limitado.
charter-rules-2 = O computador avisa 5 minutos antes do fim e depois 1 minuto antes.
charter-rules-3 = No fim, os seus documentos são apagados. Para os guardar, ponha-os numa pen USB ou imprima-os.
charter-rules-3-no-usb = No fim, os seus documentos são apagados. Para os guardar, imprima-os.
charter-rules-4 = Lembre-se de sair das suas contas. A limpeza no fim também faz isso.
charter-rules-5 = Respeite as outras pessoas e o material.
charter-help = Precisa de ajuda? Pergunte na receção.
charter-no-hurry = Não tenha pressa: esta página não tem limite de tempo.
charter-accept = Compreendi, quero continuar

## Free access

start-title = Abrir a sua sessão
start-length = A sua sessão dura { $minutes } minutos.
start-until = A sua sessão pode durar até às { $time }.
start-submit = Abrir a minha sessão
ticket-text = Escreva o código do seu ticket. O código está no papel que recebeu na receção.
ticket-label = Código do ticket
ticket-hint = 8 letras e números. Por exemplo: K7MN-3XPA
ticket-none = Não tem ticket? Peça um na receção.

## Errors when opening a session

error-title = A sua sessão não foi aberta
error-ticket-invalid = Este código não é um código de ticket. Um código tem 8 letras e números. Verifique e escreva-o outra vez.
error-ticket-unknown = Este ticket não é conhecido aqui. Verifique o código ou pergunte na receção.
error-ticket-used = Este ticket já foi usado. Peça um ticket novo na receção.
error-ticket-expired = Este ticket já não é válido. Peça um ticket novo na receção.
error-ticket-required = Precisa de um ticket. Peça um na receção.
error-busy = Já há uma sessão aberta neste computador.
error-wiping = O computador está a apagar a sessão anterior. Tente outra vez daqui a pouco.
error-closed = O computador está fechado neste momento.
error-blocked = O computador está fora de serviço. Pergunte na receção.
error-supervised = Agora é a hora do atendimento com mediador: o seu mediador vai abrir a sua sessão.
error-pin = Este código de mediador não está certo.
error-too-many = Demasiadas tentativas. Espere um minuto e tente outra vez.
error-other = O computador não conseguiu abrir a sua sessão. Pergunte na receção.

## Supervised slot

supervised-title = Sessão acompanhada
supervised-text = O seu mediador vai abrir a sua sessão.
supervised-wait = Por favor, espere um momento.
supervised-permanence = Atendimento: { $name }
mediator-title = Para o mediador
mediator-label = Código do mediador
mediator-submit = Abrir a sessão

## During the session

session-title = A sua sessão
session-time-left = Tempo restante
session-ends-at = Fim da sessão às { $time }.
session-no-limit = Sem limite de tempo. O seu mediador vai terminar a sessão consigo.
session-supervised = Sessão acompanhada por um mediador.
warning-title = Atenção
warning-5 = A sua sessão termina daqui a 5 minutos. Guarde os seus documentos.
warning-1 = A sua sessão termina daqui a 1 minuto. Os seus documentos vão ser apagados.
session-documents = Ver os meus documentos
session-end-now = Terminar a minha sessão agora

## End of the session

end-title = Terminar a sua sessão
end-documents-title = Estes documentos vão ser apagados
end-documents-none = Não tem documentos em «Téléchargements» (Transferências) nem em «Numérisations» (Digitalizações).
end-keep-title = Para guardar os seus documentos
end-keep-usb = Ponha-os na sua pen USB.
end-keep-print = Imprima-os.
end-keep-mail = Ou envie-os para o seu endereço de e-mail.
end-confirm = Sim, terminar e apagar tudo
end-back = Não, voltar à minha sessão

erased-title = A sua sessão foi apagada
erased-text = Tudo o que fez neste computador foi apagado. A próxima pessoa não vai ver nada.
erased-checked = Verificado: { $checks } verificações sem encontrar nada, em { $seconds } segundos.
erased-failed = Não foi possível verificar a limpeza. O computador está bloqueado. Avise a receção.
erased-thanks = Obrigado e bom dia.
erased-home = Voltar ao início
wiping-title = A apagar
wiping-text = O computador está a apagar a sessão. Por favor, espere alguns segundos.

## Closed and blocked

closed-title = Computador fechado
closed-reopens-today = Volta a abrir hoje às { $time }.
closed-reopens-tomorrow = Volta a abrir amanhã às { $time }.
closed-reopens-on = Volta a abrir no dia { $date }, às { $time }.
closed-unknown = Os horários estão afixados na receção.
closed-staff-message = Mensagem da receção: { $message }
closed-ask = Se tiver alguma pergunta, pergunte na receção da Maison des Habitants.
blocked-title = Computador fora de serviço
blocked-text = Este computador não pode ser usado de momento.
blocked-ask = Pergunte na receção: talvez haja outro computador livre.

## Device guard

checked-on = Este computador foi verificado pela equipa no dia { $date }, às { $time }.
alarm-title = Computador bloqueado por segurança
alarm-text = Foi ligado um teclado ou outro aparelho a este computador depois da última verificação. Ninguém o pode usar até alguém da equipa o verificar.
alarm-no-password = Não escreva nenhuma palavra-passe nem nenhum código neste computador.
alarm-ask = Avise a receção ou um mediador. Talvez haja outro computador livre.
alarm-device = Aparelho detetado:
alarm-staff-title = Para a equipa
alarm-staff-label = Código de mediador, depois de verificar o cabo e o teclado
alarm-staff-submit = Aparelhos verificados: desbloquear
error-device-alarm = Este computador está bloqueado por segurança: foi ligado um aparelho. Avise a receção.

## Stepping away

away-title = Ausentar-me alguns minutos
away-explain = Vai buscar um papel ou uma impressão? Bloqueie a sua sessão com um código à sua escolha. Tem { $minutes } minutos para voltar. O tempo da sua sessão continua a contar.
away-code-label = Escolha um código (4 a 8 números)
away-code-hint = Não se esqueça dele: vai ter de o escrever para voltar à sua sessão.
away-again-label = Escreva o mesmo código outra vez
away-submit = Bloquear a minha sessão
away-locked-title = Sessão bloqueada
away-locked-text = A pessoa que usa este computador ausentou-se por alguns minutos. A sessão dela está bloqueada.
away-time-left = Tempo para voltar
away-until = Volte antes das { $time }.
away-erased-after = Se a pessoa não voltar a tempo, ou depois de 5 códigos errados, a sessão termina e tudo é apagado.
away-back-label = O seu código
away-back-submit = Voltar à minha sessão
away-tries-left = Tentativas restantes: { $tries }.
away-error-wrong = Este código não está certo.
away-error-mismatch = Os dois códigos são diferentes. Escreva o mesmo código duas vezes.
away-error-code = Escolha um código de 4 a 8 números.
away-error-off = Este computador não permite bloquear a sessão.
away-error-late = A sua sessão termina daqui a menos de um minuto: já não pode ser bloqueada.
away-error-lock = Este computador não consegue bloquear o ecrã: a sua sessão não foi bloqueada. Fique perto do computador ou termine a sua sessão.

## USB sticks

usb-refused = As pens USB não são permitidas nos computadores deste centro: a sua pen foi desligada e nada foi lido. Para guardar os seus documentos, imprima-os ou pergunte na receção.

## Chamar um mediador

help-call = Chamar um mediador
help-title = Chamar um mediador
help-text = Um mediador pode vir ajudá-lo.
help-private = O computador só envia a sua escolha. Nunca envia o seu ecrã nem o que escreve.
help-choose = Precisa de ajuda com quê?
help-need-printing = Imprimir ou digitalizar
help-need-account = Uma conta ou uma palavra-passe
help-need-form = Um formulário
help-need-other = Outra coisa
help-sent-title = A sua chamada foi enviada
help-sent-text = Fique no seu lugar. Um mediador vai ver a sua chamada.
help-taken-title = Um mediador está a chegar
help-taken-text = Um mediador recebeu a sua chamada e vem ajudá-lo.
help-your-need = O seu pedido:
help-cancel = Cancelar a minha chamada
help-back = Voltar à minha sessão
help-error-too-soon = Acabou de chamar. Espere 30 segundos e tente outra vez.
help-error-too-many = Já chamou várias vezes. Pergunte na receção.
help-error-other = A chamada não foi enviada. Pergunte na receção.

## The wait

wait-title = Está à espera de um computador?
wait-free = Computadores livres agora: { $count }. Pergunte na receção.
wait-all-busy = Todos os computadores estão ocupados neste momento.
wait-next = O próximo deve ficar livre por volta das { $time }.
wait-reserved = Reservados para um atendimento:
wait-reserved-until = { $permanence }, até às { $time }

## Closing time

closing-title = O centro fecha em breve
closing-at = Fecho às { $time }: as sessões terminam a essa hora. Guarde os seus documentos antes.

## Send to my phone

phone-send = Enviar para o meu telemóvel
phone-offline = Não é possível enviar para um telemóvel neste momento (rede). Pergunte à equipa.
phone-sent-title = Enviados para o seu telemóvel
phone-until = ligação válida até às { $time }
phone-show-again = Ver de novo o último código
end-keep-phone = Envie-os para o seu telemóvel: um código para ler, sem conta nem palavra-passe.
phone-title = O seu documento no seu telemóvel
phone-qr-label = Código QR da ligação para o seu documento
phone-scan = Leia este código com a câmara do seu telemóvel: o documento abre-se no navegador.
phone-link-label = Ou escreva este endereço no navegador do seu telemóvel:
phone-once = A ligação funciona uma única vez, até às { $time }.
phone-private = O documento é cifrado neste computador antes de sair: o servidor da cidade não o pode ler. A chave está apenas neste código.
phone-still-erased = O documento também fica neste computador até ao fim da sua sessão; depois é apagado.
phone-back = Voltar aos meus documentos
phone-error-off = Este centro não envia documentos para telemóveis. Imprima-os ou pergunte à equipa.
phone-error-document = Este documento já não está lá. Veja a lista de novo.
phone-error-large = Este documento é grande demais para um telemóvel (32 MB no máximo). Imprima-o ou pergunte à equipa.
phone-error-busy = Outro documento está a ser enviado. Tente de novo daqui a pouco.
phone-error-refused = O servidor não conseguiu guardar o documento. Tente de novo dentro de alguns minutos ou pergunte à equipa.

## Copy to my USB stick

usb-copy-title = Copiar para a minha pen USB
usb-copy-explain = Ligue a sua pen, marque os documentos e carregue no botão. O computador não lê o que já está na sua pen.
usb-copy-choose = Documentos a copiar
usb-copy-submit = Copiar para a minha pen USB
usb-done-title = Documentos copiados
usb-done-count = { $count ->
    [one] 1 documento copiado para a sua pen USB.
   *[other] { $count } documentos copiados para a sua pen USB.
}
usb-done-remove = Pode retirar a sua pen.
usb-none-chosen = Marque pelo menos um documento.
usb-no-stick = Não há nenhuma pen USB ligada. Ligue-a, espere alguns segundos e tente de novo.
usb-format = Não foi possível abrir esta pen (formato desconhecido). Pergunte à equipa.
usb-no-space = Não há espaço suficiente na sua pen para estes documentos.
usb-failed = A cópia não funcionou. Retire a pen, volte a ligá-la e tente de novo, ou pergunte à equipa.

## Printing knowingly

print-title = As suas impressões
print-held = Nada sai da impressora antes de dar o seu acordo.
print-job = Impressão n.º { $job }
print-pages = Número de páginas: { $pages }
print-uncounted = Não foi possível contar o número de páginas.
print-left = Páginas gratuitas restantes: { $pages }
print-confirm = Imprimir
print-cancel = Cancelar esta impressão
print-beyond = São mais páginas do que as suas páginas gratuitas. Um membro da equipa pode lançá-la: pergunte na receção.
print-staff = Um membro da equipa pode lançá-la: pergunte na receção.
print-error-staff = Esta impressão espera por um membro da equipa.
print-error-gone = Esta impressão já não está em espera.
print-error-failed = A impressora não respondeu. Tente de novo ou pergunte na receção.
