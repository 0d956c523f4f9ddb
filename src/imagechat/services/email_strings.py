"""What notification emails and the unsubscribe page say, in each language they speak.

A user's language comes from their SSO payload (`locale`, a tag like "pl" or "de-AT");
any other language, or none, reads English. Placeholders: {name} (who wrote), {site} (the
tenant's name), {page} (the page's title, else the site's name), {count}.
"""

from __future__ import annotations

from typing import Final

DEFAULT = "en"

STRINGS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "subject_mention": "{name} mentioned you on {site}",
        "subject_reply": "{name} replied on {site}",
        "subject_many": "{count} new messages on {site}",
        "greeting": "Hi {name},",
        "greeting_anonymous": "Hi,",
        "mention": "{name} mentioned you on {page}:",
        "reply": "{name} replied in a conversation you follow on {page}:",
        "open": "Open the conversation",
        "more": "…and {count} more.",
        "why": "You get these emails because you take part in conversations on {site}.",
        "unsubscribe": "Unsubscribe from these emails",
        "page_title": "Email notifications",
        "page_ask": "Stop emails about mentions and replies on {site}?",
        "page_button": "Unsubscribe",
        "page_done": "You will get no more emails from {site}.",
        "page_again": "Subscribe again",
        "page_resubscribed": "You will get emails from {site} again.",
        "page_refused": "This link is not valid. Use the link from your latest email.",
    },
    "pl": {
        "subject_mention": "Wzmianka od {name} w {site}",
        "subject_reply": "Odpowiedź od {name} w {site}",
        "subject_many": "Nowe wiadomości w {site}: {count}",
        "greeting": "Cześć {name},",
        "greeting_anonymous": "Cześć,",
        "mention": "Wzmianka o Tobie od {name} na stronie {page}:",
        "reply": "Odpowiedź od {name} w obserwowanej rozmowie na stronie {page}:",
        "open": "Otwórz rozmowę",
        "more": "…i jeszcze {count}.",
        "why": "Otrzymujesz te wiadomości, bo bierzesz udział w rozmowach w {site}.",
        "unsubscribe": "Wypisz się z tych wiadomości",
        "page_title": "Powiadomienia e-mail",
        "page_ask": "Nie wysyłać już e-maili o wzmiankach i odpowiedziach w {site}?",
        "page_button": "Wypisz się",
        "page_done": "Nie będziesz już dostawać e-maili z {site}.",
        "page_again": "Zapisz się ponownie",
        "page_resubscribed": "Znów będziesz dostawać e-maile z {site}.",
        "page_refused": "Ten link jest nieważny. Użyj linku z ostatniej wiadomości.",
    },
    "de": {
        "subject_mention": "{name} hat Sie auf {site} erwähnt",
        "subject_reply": "{name} hat auf {site} geantwortet",
        "subject_many": "{count} neue Nachrichten auf {site}",
        "greeting": "Hallo {name},",
        "greeting_anonymous": "Hallo,",
        "mention": "{name} hat Sie auf {page} erwähnt:",
        "reply": "{name} hat in einer Unterhaltung auf {page} geantwortet, der Sie folgen:",
        "open": "Unterhaltung öffnen",
        "more": "…und {count} weitere.",
        "why": "Sie erhalten diese E-Mails, weil Sie an Unterhaltungen auf {site} teilnehmen.",
        "unsubscribe": "Diese E-Mails abbestellen",
        "page_title": "E-Mail-Benachrichtigungen",
        "page_ask": "Keine E-Mails mehr zu Erwähnungen und Antworten auf {site}?",
        "page_button": "Abbestellen",
        "page_done": "Sie erhalten keine E-Mails mehr von {site}.",
        "page_again": "Wieder abonnieren",
        "page_resubscribed": "Sie erhalten wieder E-Mails von {site}.",
        "page_refused": "Dieser Link ist ungültig. Nutzen Sie den Link aus Ihrer letzten "
                        "E-Mail.",
    },
    "es": {
        "subject_mention": "{name} te ha mencionado en {site}",
        "subject_reply": "{name} ha respondido en {site}",
        "subject_many": "{count} mensajes nuevos en {site}",
        "greeting": "Hola, {name}:",
        "greeting_anonymous": "Hola:",
        "mention": "{name} te ha mencionado en {page}:",
        "reply": "{name} ha respondido en una conversación que sigues en {page}:",
        "open": "Abrir la conversación",
        "more": "…y {count} más.",
        "why": "Recibes estos correos porque participas en conversaciones en {site}.",
        "unsubscribe": "Darse de baja de estos correos",
        "page_title": "Notificaciones por correo",
        "page_ask": "¿Dejar de recibir correos sobre menciones y respuestas en {site}?",
        "page_button": "Darme de baja",
        "page_done": "Ya no recibirás correos de {site}.",
        "page_again": "Volver a suscribirme",
        "page_resubscribed": "Volverás a recibir correos de {site}.",
        "page_refused": "Este enlace no es válido. Usa el enlace de tu último correo.",
    },
    "fr": {
        "subject_mention": "{name} vous a mentionné(e) sur {site}",
        "subject_reply": "{name} a répondu sur {site}",
        "subject_many": "{count} nouveaux messages sur {site}",
        "greeting": "Bonjour {name},",
        "greeting_anonymous": "Bonjour,",
        "mention": "{name} vous a mentionné(e) sur {page}\u00a0:",
        "reply": "{name} a répondu dans une conversation que vous suivez sur {page}\u00a0:",
        "open": "Ouvrir la conversation",
        "more": "…et {count} de plus.",
        "why": "Vous recevez ces e-mails parce que vous participez à des conversations sur "
               "{site}.",
        "unsubscribe": "Se désabonner de ces e-mails",
        "page_title": "Notifications par e-mail",
        "page_ask": "Ne plus recevoir d'e-mails sur les mentions et les réponses sur {site}\u00a0?",
        "page_button": "Me désabonner",
        "page_done": "Vous ne recevrez plus d'e-mails de {site}.",
        "page_again": "Me réabonner",
        "page_resubscribed": "Vous recevrez à nouveau des e-mails de {site}.",
        "page_refused": "Ce lien n'est pas valide. Utilisez le lien de votre dernier e-mail.",
    },
}


def language(tag: str | None) -> str:
    """The language to write in for a BCP 47 tag ("pl-PL" → "pl"); English otherwise."""
    primary = (tag or "").replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in STRINGS else DEFAULT


def strings(tag: str | None) -> dict[str, str]:
    return STRINGS[language(tag)]
