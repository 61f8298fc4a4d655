// The dashboard's icon (served as /assets/favicon.svg and /favicon.ico): a kiln's arch with a flame.
export const faviconSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<path d="M4 30V16a12 12 0 0 1 24 0v14z" fill="#57606a"/>
<path d="M16 27c-4 0-6-2.6-6-5.6 0-3.4 3-5.4 4-8.4 1.6 1.6 1.4 3.6 1 5 1.4-.6 2.6-2.2 2.8-4 2.6 2 4.2 4.6 4.2 7.4 0 3-2 5.6-6 5.6z" fill="#fb8f44"/>
</svg>
`;
