-- Still quality, measured when a still is stored (agent_console::still_quality): sharpness is
-- the variance of the Laplacian of its luma at a fixed working size (rounded), glare the share
-- of blown-out pixels in thousandths. NULL for stills stored before they were measured.
ALTER TABLE stills ADD COLUMN sharpness BIGINT;
ALTER TABLE stills ADD COLUMN glare_per_mille BIGINT;
