import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Router } from 'wouter';
import { App } from './App';
import { useConsoleLocation } from './location';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {/* the accepted address: the browser's Back and Forward ask an active leave guard first */}
    <Router hook={useConsoleLocation}>
      <App />
    </Router>
  </StrictMode>,
);
