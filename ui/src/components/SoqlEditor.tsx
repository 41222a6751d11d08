import { useRef, useState, type KeyboardEvent } from "react";
import { apply, complete, type Completion } from "../lib/complete";
import { Completions } from "./Completions";

/** A SOQL text area that completes object and field names (Ctrl+Space to
 * ask; Tab or Enter to take; Ctrl+Enter runs). */
export function SoqlEditor(props: {
  value: string;
  onChange: (soql: string) => void;
  onRun: () => void;
  objects: string[];
  fields: string[];
}) {
  const { value, onChange, onRun, objects, fields } = props;
  const area = useRef<HTMLTextAreaElement>(null);
  const [menu, setMenu] = useState<Completion | null>(null);
  const [active, setActive] = useState(0);

  const suggest = (text: string, cursor: number, asked: boolean) => {
    const word = /[A-Za-z0-9_]*$/.exec(text.slice(0, cursor))?.[0] ?? "";
    const c = asked || word.length > 0 ? complete(text, cursor, objects, fields) : null;
    setMenu(c);
    setActive(0);
  };

  const take = (item: string) => {
    if (!menu) return;
    const [text, cursor] = apply(value, menu, item);
    onChange(text);
    setMenu(null);
    requestAnimationFrame(() => {
      area.current?.focus();
      area.current?.setSelectionRange(cursor, cursor);
    });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      setMenu(null);
      onRun();
      return;
    }
    if (e.key === " " && e.ctrlKey) {
      e.preventDefault();
      suggest(value, e.currentTarget.selectionStart, true);
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
      setMenu(null);
    }
  };

  return (
    <div className="soql-editor">
      <textarea
        ref={area}
        aria-label="SOQL query"
        spellCheck={false}
        value={value}
        onChange={(e) => {
          onChange(e.target.value);
          suggest(e.target.value, e.target.selectionStart, false);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => setMenu(null), 150)}
      />
      {menu && <Completions label="Suggestions" items={menu.items} active={active} onTake={take} />}
    </div>
  );
}
