// The name host/auth.ts validates its address box with: the same reading sign-in.ts applies.
export { normalizeServerAddress as normalizeUrl } from '../../protocol/origin';
