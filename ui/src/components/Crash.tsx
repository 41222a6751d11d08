import { Component, type ReactNode } from "react";

/** A screen that threw: says what broke instead of a blank window, and
 * offers to reload (the data folder is untouched). */
export class Crash extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidCatch(error: Error) {
    console.error("screen crashed", error);
  }
  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div className="pad">
        <div className="error-box" role="alert" data-kind="internal">
          <div className="error-message">This screen stopped: {error.message}</div>
          <div className="error-detail">Nothing was lost. Reload the window; if it happens again, the log folder (Settings) has the details.</div>
          <pre className="small">{error.stack}</pre>
          <button onClick={() => location.reload()}>Reload</button>
        </div>
      </div>
    );
  }
}
