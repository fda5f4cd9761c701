/** The signal on which a process running cpu-profile-preload writes its CPU profile. */
export const PROFILE_SIGNAL = 'SIGUSR2';
