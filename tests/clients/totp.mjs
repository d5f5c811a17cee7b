// Prints the TOTP code of a base32 secret, computed by an independent implementation
// (otplib), for the zygo tests: `node totp.mjs SECRET [OFFSET_SECONDS]`.
import otplib from 'otplib';

const [secret, offset = '0'] = process.argv.slice(2);
const { authenticator } = otplib;
authenticator.options = { epoch: Date.now() + Number(offset) * 1000 };
process.stdout.write(authenticator.generate(secret) + '\n');
