import { useEffect, useRef } from "react";

/** Scrolls an element into view when `key` changes to something: results
 *  and progress that appear below the button the user just pressed. */
export function useReveal<T extends HTMLElement>(key: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (key) ref.current?.scrollIntoView({ block: "nearest" });
  }, [key]);
  return ref;
}
