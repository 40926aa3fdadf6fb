import { createRoot } from 'react-dom/client';
import { App } from './App';
import { openControlLink } from './api/link';
import { StationModel } from './model';
import './styles.css';

const root = createRoot(document.getElementById('root') as HTMLElement);
const link = openControlLink();
if ('error' in link) {
  root.render(
    <main className="app">
      <p className="banner error" role="alert">
        {link.error}
      </p>
    </main>,
  );
} else {
  root.render(<App model={new StationModel(link)} />);
}
