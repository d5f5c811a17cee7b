export default function Login() {
  return <main>Log in</main>;
}
