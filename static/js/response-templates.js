// Response templates on a complaint's page: a click puts the template's text (filled in by the
// server) into its form's note, to edit before sending. Without script the link reloads the
// page with the text in place.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a.template-pick");
  if (!link) return;
  const note = document.getElementById(link.dataset.target);
  if (!note) return;
  event.preventDefault();
  note.value = link.dataset.text;
  note.focus();
  note.setSelectionRange(note.value.length, note.value.length);
});
