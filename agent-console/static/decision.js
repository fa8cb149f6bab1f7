// The decision page: a moment on a recording's timeline seeks its player there and plays.
for (const button of document.querySelectorAll('button[data-seek]')) {
  button.addEventListener('click', () => {
    const video = document.getElementById(button.dataset.video);
    if (!video) return;
    const at = Number(button.dataset.seek);
    const seek = () => {
      video.currentTime = at;
      video.play().catch(() => {});
    };
    if (video.readyState >= 1) seek();
    else {
      video.addEventListener('loadedmetadata', seek, { once: true });
      video.preload = 'metadata';
      video.load();
    }
  });
}
