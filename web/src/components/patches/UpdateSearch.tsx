/** The update lists' search box (package, CVE, KB or advisory): hands over the trimmed text on submit. */
export function UpdateSearch(props: { onSearch: (q: string) => void; testId: string }) {
  return (
    <form
      class="update-search"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSearch(String(new FormData(e.currentTarget).get("q") ?? "").trim());
      }}
    >
      <input
        class="input"
        name="q"
        type="search"
        placeholder="Package, CVE, KB or advisory"
        aria-label="Search updates"
        maxLength={128}
        data-testid={props.testId}
      />
    </form>
  );
}
