import { useState } from "react";

/** The connection a screen works on, remembered across screens. */
let remembered = "";

export function useConnectionChoice(): [string, (name: string) => void] {
  const [name, setName] = useState(remembered);
  return [
    name,
    (n: string) => {
      remembered = n;
      setName(n);
    },
  ];
}
