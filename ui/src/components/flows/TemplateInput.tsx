import { useLayoutEffect, useRef, useState, type KeyboardEvent } from "react";
import { completeTemplate, type TemplateCompletion } from "../../lib/flows";
import { Completions } from "../Completions";

/** A template (`{{ record.Email }}`) or condition field that offers the
 * names upstream as you type (Ctrl+Space asks; Tab or Enter takes). */
export function TemplateInput(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  names: string[];
  expression?: boolean;
  multiline?: boolean;
  placeholder?: string;
  invalid?: boolean;
}) {
  const { label, value, onChange, names, expression = false, multiline = false, placeholder, invalid } = props;
  const field = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const [menu, setMenu] = useState<TemplateCompletion | null>(null);
  const [active, setActive] = useState(0);
  // Where the cursor goes once a taken name is in the value: set before
  // the next key is read, so typing on after Tab lands after the name.
  const cursorAfter = useRef<number | null>(null);
  useLayoutEffect(() => {
    if (cursorAfter.current === null) return;
    field.current?.focus();
    field.current?.setSelectionRange(cursorAfter.current, cursorAfter.current);
    cursorAfter.current = null;
  }, [value]);

  const suggest = (text: string, cursor: number, asked: boolean) => {
    let c = completeTemplate(text, cursor, names, expression);
    if (!c && asked && !expression) {
      // Asked outside {{ }}: offer the names to insert as a new placeholder.
      c = { from: cursor, to: cursor, items: names.map((n) => `{{ ${n} }}`) };
    }
    setMenu(c);
    setActive(0);
  };

  const take = (item: string) => {
    if (!menu) return;
    const text = value.slice(0, menu.from) + item + value.slice(menu.to);
    const cursor = menu.from + item.length;
    cursorAfter.current = cursor;
    onChange(text);
    setMenu(null);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>) => {
    if (e.key === " " && e.ctrlKey) {
      e.preventDefault();
      suggest(value, e.currentTarget.selectionStart ?? value.length, true);
      return;
    }
    if (!menu) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      setActive((a) => (a + step + menu.items.length) % menu.items.length);
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      take(menu.items[active]);
    } else if (e.key === "Escape") {
      e.stopPropagation();
      setMenu(null);
    }
  };

  const common = {
    ref: field,
    "aria-label": label,
    spellCheck: false,
    value,
    placeholder,
    className: "mono" + (invalid ? " invalid" : ""),
    onKeyDown,
    onBlur: () => setTimeout(() => setMenu(null), 150),
    onChange: (e: { target: HTMLInputElement | HTMLTextAreaElement }) => {
      onChange(e.target.value);
      const typed = /[A-Za-z0-9_.{ ]$/.test(e.target.value.slice(0, e.target.selectionStart ?? 0));
      if (typed) suggest(e.target.value, e.target.selectionStart ?? e.target.value.length, false);
      else setMenu(null);
    },
  };
  return (
    <div className="template-input">
      {multiline ? <textarea rows={3} {...common} /> : <input {...common} />}
      {menu && <Completions label="Names you can use" items={menu.items} active={active} onTake={take} />}
    </div>
  );
}
