import { render } from 'preact';
import { loadSession } from './api/session';
import { App } from './app';
import { interceptLinks } from './router';

/** Entry point: route links through the router, load the session, render the app. */
interceptLinks();
const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
void loadSession();
