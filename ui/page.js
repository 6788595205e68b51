// The chat page's behaviour in the browser, run once when the page loads. It finds its way by
// class names that ui/render.py writes (see its docstring):
// - the "Copy quotes" button puts the answer on the clipboard as plain text;
// - an [n] marker shows the source card of quote n, highlighted: in the sources panel, or on a
//   narrow screen in the answer's own collapsed sources;
// - in the question box, Up recalls the earlier questions and Escape clears the box, and an
//   empty question is never sent;
// - a new answer is shown from its first line (Gradio's autoscroll would show its last).
(() => {
  const NARROW = window.matchMedia("(max-width: 768px)");
  const FLASH_MS = 3000;
  const asked = [];
  let recalled = -1;
  let pending = null; // a marker clicked in an answer whose sources the panel is about to show
  let answers = 0;
  let settling = []; // timers that show the newest answer once it is laid out

  const questionBox = () => document.querySelector("#question textarea");
  const answerMessages = () => [...document.querySelectorAll('#chat [data-testid="bot"]')];

  function setQuestion(text) {
    const box = questionBox();
    box.value = text;
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function scrollWithin(container, element, margin = 8) {
    const top = element.getBoundingClientRect().top - container.getBoundingClientRect().top;
    container.scrollTop += top - margin;
  }

  function flash(card) {
    document.querySelectorAll(".qa-source.qa-flash").forEach((c) => c !== card && c.classList.remove("qa-flash"));
    card.classList.add("qa-flash");
  }

  // Until it expires, a pending card is shown again whenever the panel is re-drawn.
  function showPending() {
    if (!pending || Date.now() > pending.until) return;
    const panel = document.querySelector("#sources");
    const sources = panel && panel.querySelector(".qa-sources.qa-turn-" + pending.turn);
    const card = sources && sources.querySelector(".qa-source.qa-holds-" + pending.number);
    if (!card || card.classList.contains("qa-flash")) return;
    flash(card);
    scrollWithin(panel, card);
    const box = panel.getBoundingClientRect();
    if (box.top < 0 || box.top > window.innerHeight) panel.scrollIntoView({ block: "start" });
  }

  function showSource(marker) {
    const [, turn, number] = /qa-source-(\d+)-(\d+)$/.exec(marker.getAttribute("href")) || [];
    if (turn === undefined) return;
    if (NARROW.matches) {
      const sources = marker.closest('[data-testid="bot"]').querySelector("details.qa-message-sources");
      if (!sources) return;
      sources.open = true;
      const card = sources.querySelector(".qa-source.qa-holds-" + number);
      if (card) {
        flash(card);
        card.scrollIntoView({ block: "start" });
      }
      return;
    }
    // Clicking the message also asks the server for its sources; show the card once they're in.
    pending = { turn, number, until: Date.now() + FLASH_MS };
    showPending();
  }

  async function copyAnswer(button) {
    const text = button.closest('[data-testid="bot"]').querySelector(".qa-copy-text").textContent;
    let copied = false;
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch (err) {
      // Without a secure context (http to another machine) there is no clipboard API.
      const area = document.createElement("textarea");
      area.value = text;
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      copied = document.execCommand("copy");
      area.remove();
    }
    button.textContent = copied ? "Copied" : "Copy failed";
    setTimeout(() => (button.textContent = "Copy quotes"), 1500);
  }

  function remember(question) {
    question = question.trim();
    if (question && asked[asked.length - 1] !== question) asked.push(question);
    recalled = -1;
  }

  // Scrolls the chat to the newest question, or to its answer when the question is long, so the
  // answer shows from its first line.
  function toNewAnswer() {
    const messages = answerMessages();
    const latest = messages[messages.length - 1];
    const log = latest && latest.closest('[role="log"]');
    if (!log) return;
    const questions = document.querySelectorAll('#chat [data-testid="user"]');
    const question = questions[questions.length - 1];
    const gap = question ? latest.getBoundingClientRect().top - question.getBoundingClientRect().top : Infinity;
    scrollWithin(log, gap < log.clientHeight / 3 ? question : latest);
  }

  function showNewAnswer() {
    const count = answerMessages().length;
    if (count > answers) {
      // Again once the message is laid out: Gradio renders its Markdown a moment later.
      toNewAnswer();
      settling = [setTimeout(toNewAnswer, 50), setTimeout(toNewAnswer, 300)];
      const panel = document.querySelector("#sources");
      if (panel && !pending) panel.scrollTop = 0;
    }
    answers = count;
  }

  document.addEventListener("click", (event) => {
    settling.forEach(clearTimeout); // the person has taken over: don't scroll under their hands
    const marker = event.target.closest && event.target.closest("#chat a.qa-ref");
    if (marker) {
      event.preventDefault();
      showSource(marker);
      return;
    }
    const copy = event.target.closest && event.target.closest("#chat button.qa-copy");
    if (copy) {
      event.preventDefault();
      copyAnswer(copy);
      return;
    }
    if (event.target.closest && event.target.closest("#ask")) remember(questionBox().value);
  }, true);

  document.addEventListener("keydown", (event) => {
    const box = questionBox();
    if (event.target !== box) return;
    if (event.key === "Enter" && !event.shiftKey) {
      if (!box.value.trim()) {
        event.preventDefault();
        event.stopPropagation();
        return;
      }
      remember(box.value);
    } else if (event.key === "Escape") {
      event.preventDefault();
      setQuestion("");
      recalled = -1;
    } else if (event.key === "ArrowUp" && asked.length) {
      // Only over an empty box or a recalled question: never over what the person is typing.
      if (box.value && (recalled < 0 || box.value !== asked[recalled])) return;
      event.preventDefault();
      recalled = recalled < 0 ? asked.length - 1 : Math.max(recalled - 1, 0);
      setQuestion(asked[recalled]);
    } else if (event.key === "ArrowDown" && recalled >= 0 && box.value === asked[recalled]) {
      event.preventDefault();
      recalled = recalled + 1 < asked.length ? recalled + 1 : -1;
      setQuestion(recalled < 0 ? "" : asked[recalled]);
    }
  }, true);

  new MutationObserver(() => {
    showNewAnswer();
    showPending();
  }).observe(document.body, { childList: true, subtree: true });
})();
