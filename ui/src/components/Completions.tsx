/** The suggestions under a text field that completes (SOQL, templates):
 * the active one highlighted, taken with a click. */
export function Completions(props: { label: string; items: string[]; active: number; onTake: (item: string) => void }) {
  const { label, items, active, onTake } = props;
  return (
    <ul className="completions" role="listbox" aria-label={label}>
      {items.map((item, i) => (
        <li
          key={item}
          role="option"
          aria-selected={i === active}
          className={i === active ? "active" : ""}
          onMouseDown={(e) => {
            e.preventDefault();
            onTake(item);
          }}
        >
          {item}
        </li>
      ))}
    </ul>
  );
}
