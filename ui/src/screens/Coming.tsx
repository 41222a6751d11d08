/** A screen that is planned and not built yet: says so, fakes nothing. */
export default function Coming({ title, what }: { title: string; what: string }) {
  return (
    <section className="screen">
      <header className="screen-head">
        <h2>{title}</h2>
      </header>
      <div className="panel empty">
        <p>
          <strong>Coming.</strong> {what}
        </p>
      </div>
    </section>
  );
}
