"""Asks the window titled "Sync Studio" to close, as a window manager's
close button does (WM_DELETE_WINDOW): Xvfb runs no window manager."""

from Xlib import X, display, protocol

d = display.Display()


def find(window):
    name = window.get_wm_name()
    if name and "Sync Studio" in name:
        return window
    for child in window.query_tree().children:
        found = find(child)
        if found:
            return found
    return None


window = find(d.screen().root)
if window is None:
    raise SystemExit("no Sync Studio window")
protocols, delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
window.send_event(protocol.event.ClientMessage(window=window, client_type=protocols,
                                               data=(32, [delete, X.CurrentTime, 0, 0, 0])),
                  event_mask=X.NoEventMask)
d.flush()
