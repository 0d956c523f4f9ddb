// What the widget says, in each language it speaks. A new language is one more entry here
// (the README's `locale` option lists them); a missing string falls back to English.

export const STRINGS = {
  en: {
    wrap: 'Image with conversations: {alt}. Click a spot, or move the cross-hair with the arrow keys and press Enter, to start a conversation.',
    marker: 'Conversation {n}, messages: {c}', pending: 'New conversation (not sent yet)',
    dialog: 'Conversation {n}', newDialog: 'New conversation', close: 'Close', messages: 'Messages',
    message: 'Message', placeholder: 'Write a message…', name: 'Your name', send: 'Send',
    sending: 'Sending…', edit: 'Edit', save: 'Save', cancel: 'Cancel', del: 'Delete',
    delChat: 'Delete conversation', reply: 'Reply', replyingTo: 'Replying to {name}',
    loading: 'Loading…', empty: 'No messages yet. Write the first one.', offline: 'Offline',
    reconnecting: 'Reconnecting…', unavailable: 'Live updates are unavailable: {reason}',
    refused: 'You are offline: nothing was sent. Try again when the connection is back.',
    errSend: 'Your message could not be sent: {reason}', errEdit: 'Your change could not be saved: {reason}',
    errDel: 'Could not delete: {reason}', errLoad: 'Could not load the messages: {reason}',
    needName: 'Please enter your name first.', viewing: '{n} viewing',
    announce: 'New message from {name}: {text}', removed: 'A conversation was deleted.',
    readonly: 'This image is read-only.', network: 'network error', editLabel: 'Edit your message',
    lock: 'Lock image', unlock: 'Unlock image', lockedMod: 'Locked: only moderators can write.', locked: 'This image was locked: it is read-only now.', unlocked: 'This image is open for messages again.', ban: 'Ban', banConfirm: 'Confirm ban', banned: '{name} can no longer write here.', errMod: 'Moderation failed: {reason}'
  },
  pl: {
    wrap: 'Obraz z rozmowami: {alt}. Kliknij wybrane miejsce albo przesuń celownik strzałkami i naciśnij Enter, aby rozpocząć rozmowę.',
    marker: 'Rozmowa {n}, wiadomości: {c}', pending: 'Nowa rozmowa (jeszcze niewysłana)',
    dialog: 'Rozmowa {n}', newDialog: 'Nowa rozmowa', close: 'Zamknij', messages: 'Wiadomości',
    message: 'Wiadomość', placeholder: 'Napisz wiadomość…', name: 'Twoje imię', send: 'Wyślij',
    sending: 'Wysyłanie…', edit: 'Edytuj', save: 'Zapisz', cancel: 'Anuluj', del: 'Usuń',
    delChat: 'Usuń rozmowę', reply: 'Odpowiedz', replyingTo: 'Odpowiedź dla: {name}',
    loading: 'Ładowanie…', empty: 'Brak wiadomości. Napisz pierwszą.', offline: 'Brak połączenia',
    reconnecting: 'Ponowne łączenie…', unavailable: 'Aktualizacje na żywo są niedostępne: {reason}',
    refused: 'Brak połączenia: nic nie zostało wysłane. Spróbuj ponownie, gdy połączenie wróci.',
    errSend: 'Nie udało się wysłać wiadomości: {reason}', errEdit: 'Nie udało się zapisać zmiany: {reason}',
    errDel: 'Nie udało się usunąć: {reason}', errLoad: 'Nie udało się wczytać wiadomości: {reason}',
    needName: 'Najpierw wpisz swoje imię.', viewing: 'Oglądający: {n}',
    announce: 'Nowa wiadomość od {name}: {text}', removed: 'Rozmowa została usunięta.',
    readonly: 'Ten obraz jest tylko do odczytu.', network: 'błąd sieci', editLabel: 'Edytuj swoją wiadomość',
    lock: 'Zablokuj obraz', unlock: 'Odblokuj obraz', lockedMod: 'Zablokowany: piszą tylko moderatorzy.', locked: 'Obraz został zablokowany: jest tylko do odczytu.', unlocked: 'Obraz znów przyjmuje wiadomości.', ban: 'Zablokuj autora', banConfirm: 'Potwierdź blokadę', banned: '{name} nie może już tu pisać.', errMod: 'Moderacja nie powiodła się: {reason}'
  },
  de: {
    wrap: 'Bild mit Unterhaltungen: {alt}. Klicken Sie auf eine Stelle oder bewegen Sie das Fadenkreuz mit den Pfeiltasten und drücken Sie Enter, um eine Unterhaltung zu beginnen.',
    marker: 'Unterhaltung {n}, Nachrichten: {c}', pending: 'Neue Unterhaltung (noch nicht gesendet)',
    dialog: 'Unterhaltung {n}', newDialog: 'Neue Unterhaltung', close: 'Schließen', messages: 'Nachrichten',
    message: 'Nachricht', placeholder: 'Nachricht schreiben…', name: 'Ihr Name', send: 'Senden',
    sending: 'Wird gesendet…', edit: 'Bearbeiten', save: 'Speichern', cancel: 'Abbrechen', del: 'Löschen',
    delChat: 'Unterhaltung löschen', reply: 'Antworten', replyingTo: 'Antwort an {name}',
    loading: 'Wird geladen…', empty: 'Noch keine Nachrichten. Schreiben Sie die erste.', offline: 'Offline',
    reconnecting: 'Verbindung wird wiederhergestellt…', unavailable: 'Live-Aktualisierungen sind nicht verfügbar: {reason}',
    refused: 'Sie sind offline: Es wurde nichts gesendet. Versuchen Sie es erneut, wenn die Verbindung wieder besteht.',
    errSend: 'Ihre Nachricht konnte nicht gesendet werden: {reason}', errEdit: 'Ihre Änderung konnte nicht gespeichert werden: {reason}',
    errDel: 'Löschen fehlgeschlagen: {reason}', errLoad: 'Die Nachrichten konnten nicht geladen werden: {reason}',
    needName: 'Bitte geben Sie zuerst Ihren Namen ein.', viewing: '{n} sehen zu',
    announce: 'Neue Nachricht von {name}: {text}', removed: 'Eine Unterhaltung wurde gelöscht.',
    readonly: 'Dieses Bild ist schreibgeschützt.', network: 'Netzwerkfehler', editLabel: 'Ihre Nachricht bearbeiten',
    lock: 'Bild sperren', unlock: 'Bild entsperren', lockedMod: 'Gesperrt: nur Moderatoren können schreiben.', locked: 'Dieses Bild wurde gesperrt: es ist jetzt schreibgeschützt.', unlocked: 'Dieses Bild ist wieder für Nachrichten offen.', ban: 'Sperren', banConfirm: 'Sperre bestätigen', banned: '{name} kann hier nicht mehr schreiben.', errMod: 'Moderation fehlgeschlagen: {reason}'
  },
  es: {
    wrap: 'Imagen con conversaciones: {alt}. Haz clic en un punto, o mueve la cruz con las flechas y pulsa Enter, para iniciar una conversación.',
    marker: 'Conversación {n}, mensajes: {c}', pending: 'Nueva conversación (aún no enviada)',
    dialog: 'Conversación {n}', newDialog: 'Nueva conversación', close: 'Cerrar', messages: 'Mensajes',
    message: 'Mensaje', placeholder: 'Escribe un mensaje…', name: 'Tu nombre', send: 'Enviar',
    sending: 'Enviando…', edit: 'Editar', save: 'Guardar', cancel: 'Cancelar', del: 'Eliminar',
    delChat: 'Eliminar conversación', reply: 'Responder', replyingTo: 'Respondiendo a {name}',
    loading: 'Cargando…', empty: 'Aún no hay mensajes. Escribe el primero.', offline: 'Sin conexión',
    reconnecting: 'Reconectando…', unavailable: 'Las actualizaciones en vivo no están disponibles: {reason}',
    refused: 'Estás sin conexión: no se envió nada. Inténtalo de nuevo cuando vuelva la conexión.',
    errSend: 'No se pudo enviar tu mensaje: {reason}', errEdit: 'No se pudo guardar el cambio: {reason}',
    errDel: 'No se pudo eliminar: {reason}', errLoad: 'No se pudieron cargar los mensajes: {reason}',
    needName: 'Primero escribe tu nombre.', viewing: '{n} viendo',
    announce: 'Nuevo mensaje de {name}: {text}', removed: 'Se eliminó una conversación.',
    readonly: 'Esta imagen es de solo lectura.', network: 'error de red', editLabel: 'Edita tu mensaje',
    lock: 'Bloquear imagen', unlock: 'Desbloquear imagen', lockedMod: 'Bloqueada: solo los moderadores pueden escribir.', locked: 'Esta imagen se ha bloqueado: ahora es de solo lectura.', unlocked: 'Esta imagen vuelve a aceptar mensajes.', ban: 'Bloquear autor', banConfirm: 'Confirmar bloqueo', banned: '{name} ya no puede escribir aquí.', errMod: 'La moderación falló: {reason}'
  },
  fr: {
    wrap: 'Image avec conversations : {alt}. Cliquez sur un point, ou déplacez le viseur avec les flèches et appuyez sur Entrée, pour lancer une conversation.',
    marker: 'Conversation {n}, messages : {c}', pending: 'Nouvelle conversation (pas encore envoyée)',
    dialog: 'Conversation {n}', newDialog: 'Nouvelle conversation', close: 'Fermer', messages: 'Messages',
    message: 'Message', placeholder: 'Écrire un message…', name: 'Votre nom', send: 'Envoyer',
    sending: 'Envoi…', edit: 'Modifier', save: 'Enregistrer', cancel: 'Annuler', del: 'Supprimer',
    delChat: 'Supprimer la conversation', reply: 'Répondre', replyingTo: 'Réponse à {name}',
    loading: 'Chargement…', empty: 'Aucun message pour l’instant. Écrivez le premier.', offline: 'Hors ligne',
    reconnecting: 'Reconnexion…', unavailable: 'Les mises à jour en direct sont indisponibles : {reason}',
    refused: 'Vous êtes hors ligne : rien n’a été envoyé. Réessayez quand la connexion sera rétablie.',
    errSend: 'Votre message n’a pas pu être envoyé : {reason}', errEdit: 'Votre modification n’a pas pu être enregistrée : {reason}',
    errDel: 'Suppression impossible : {reason}', errLoad: 'Impossible de charger les messages : {reason}',
    needName: 'Veuillez d’abord saisir votre nom.', viewing: '{n} personne(s) regardent',
    announce: 'Nouveau message de {name} : {text}', removed: 'Une conversation a été supprimée.',
    readonly: 'Cette image est en lecture seule.', network: 'erreur réseau', editLabel: 'Modifier votre message',
    lock: 'Verrouiller l’image', unlock: 'Déverrouiller l’image', lockedMod: 'Verrouillée : seuls les modérateurs peuvent écrire.', locked: 'Cette image a été verrouillée : elle est en lecture seule.', unlocked: 'Cette image accepte de nouveau les messages.', ban: 'Bannir', banConfirm: 'Confirmer le bannissement', banned: '{name} ne peut plus écrire ici.', errMod: 'La modération a échoué : {reason}'
  }
};

// `locale` is a BCP 47 tag or its first two letters; anything unknown speaks English.
export function translator(locale) {
  const lang = String(locale || 'en').toLowerCase().slice(0, 2);
  const table = STRINGS[lang] || STRINGS.en;
  return (key, vars) => String(table[key] || STRINGS.en[key] || key)
    .replace(/\{(\w+)\}/g, (_, k) => (vars && vars[k] != null ? vars[k] : ''));
}
