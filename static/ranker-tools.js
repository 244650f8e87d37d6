/* Labelwell ranker tools: the board a <List> draws for its <Ranker> (components/list.html). A card
   moves by drag and drop, or by keys while it has focus: up/down within its column, Home/End to
   its top/bottom, left/right to the neighbouring column. Each card's hidden field says
   ["bucket", "id"]; the form's order of those fields is the ranking, so a move only re-orders the
   DOM, rewrites the field and hands over to window.Labelwell.changed() (a draft save and a
   re-render). Focus returns to the moved card when the re-rendered board arrives. */
(() => {
  'use strict';
  let refocus = null;  // [ranker name, item id] of the card moved last

  const cardOf = (el) => el && el.closest && el.closest('.lw-ranker .lw-rank-item[draggable="true"]');
  const columnsOf = (board) => [...board.querySelectorAll('.lw-rank-column')];
  const titleOf = (column) => column.querySelector('h4').textContent.trim();

  function place(card, column, before) {
    const list = column.querySelector('.lw-rank-items');
    list.insertBefore(card, before && before !== card ? before : null);
    const field = card.querySelector('input[type="hidden"]');
    field.value = JSON.stringify([column.dataset.bucket, card.dataset.item]);
    const board = column.closest('.lw-ranker');
    const cards = [...list.children];
    const status = board.querySelector('.lw-rank-status');
    const title = card.querySelector('.lw-rank-title').textContent.trim();
    if (status) status.textContent = `${title}: ${cards.indexOf(card) + 1} of ${cards.length} in ${titleOf(column)}`;
    refocus = [board.dataset.ranker, card.dataset.item];
    card.focus();
    window.Labelwell.changed();
  }

  function byKey(event) {
    const card = cardOf(event.target);
    if (!card || event.target !== card || event.ctrlKey || event.metaKey || event.altKey) return;
    const column = card.closest('.lw-rank-column');
    const columns = columnsOf(card.closest('.lw-ranker'));
    const here = columns.indexOf(column);
    const list = column.querySelector('.lw-rank-items');
    const index = [...list.children].indexOf(card);
    let target = null, before;
    if (event.key === 'ArrowUp' && card.previousElementSibling) [target, before] = [column, card.previousElementSibling];
    else if (event.key === 'ArrowDown' && card.nextElementSibling) [target, before] = [column, card.nextElementSibling.nextElementSibling];
    else if (event.key === 'Home' && index > 0) [target, before] = [column, list.firstElementChild];
    else if (event.key === 'End' && card.nextElementSibling) [target, before] = [column, null];
    else if ((event.key === 'ArrowLeft' && here > 0) || (event.key === 'ArrowRight' && here < columns.length - 1)) {
      target = columns[here + (event.key === 'ArrowLeft' ? -1 : 1)];
      before = target.querySelector('.lw-rank-items').children[index] || null;  // the same height, as near as it goes
    }
    if (['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) {
      event.preventDefault();
      event.stopPropagation();  // the workspace's own keys (seeking, labels) do not see it
    }
    if (target) place(card, target, before);
  }

  let dragged = null;
  function beforeCard(list, y) {
    return [...list.children].find((c) => c !== dragged && y < c.getBoundingClientRect().top + c.offsetHeight / 2) || null;
  }

  document.addEventListener('keydown', byKey, true);
  document.addEventListener('dragstart', (event) => {
    dragged = cardOf(event.target);
    if (!dragged) return;
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData('text/plain', dragged.dataset.item);
    dragged.classList.add('lw-dragging');
  });
  document.addEventListener('dragover', (event) => {
    const column = dragged && event.target.closest && event.target.closest('.lw-rank-column');
    if (!column || column.closest('.lw-ranker') !== dragged.closest('.lw-ranker')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
  });
  document.addEventListener('drop', (event) => {
    const column = dragged && event.target.closest && event.target.closest('.lw-rank-column');
    if (!column || column.closest('.lw-ranker') !== dragged.closest('.lw-ranker')) return;
    event.preventDefault();
    const card = dragged;
    card.classList.remove('lw-dragging');
    dragged = null;
    place(card, column, beforeCard(column.querySelector('.lw-rank-items'), event.clientY));
  });
  document.addEventListener('dragend', () => {
    if (dragged) dragged.classList.remove('lw-dragging');
    dragged = null;
  });
  document.addEventListener('lw:rendered', () => {
    if (!refocus) return;
    const [ranker, item] = refocus;
    const board = [...document.querySelectorAll('.lw-ranker')].find((b) => b.dataset.ranker === ranker);
    const card = board && [...board.querySelectorAll('.lw-rank-item')].find((c) => c.dataset.item === item);
    // only when the swap took the focus away: a person who went on elsewhere keeps their place
    if (card && (!document.activeElement || document.activeElement === document.body)) card.focus();
  });
  // the moved card is the one to come back to until the focus goes somewhere else (a reply to an
  // older state may arrive before the newest, so one re-render is not the last)
  document.addEventListener('focusin', (event) => {
    const card = cardOf(event.target);
    if (refocus && !(card && card.dataset.item === refocus[1] && card.closest('.lw-ranker').dataset.ranker === refocus[0])) refocus = null;
  });
})();
