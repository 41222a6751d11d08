import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import App from "./App";
import { Crash } from "./components/Crash";
import "./styles.css";

// Commands answer with the cause and next step; retrying them hides it.
const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } } });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <Crash>
        <App />
      </Crash>
    </QueryClientProvider>
  </StrictMode>,
);
